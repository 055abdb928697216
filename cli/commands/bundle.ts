import type { Command } from 'commander'
import { writeBundle } from '../../daemon/index.js'
import { action, defineCommand } from '../command.js'
import { type CommonOptions, formatBytes, printJson } from '../output.js'

interface BundleFlags extends CommonOptions {
  out: string
}

export function registerBundle(program: Command): void {
  defineCommand(
    program,
    'bundle',
    'write ferry with its dependencies and Node.js as one tar.gz, for a machine without Node.js or internet',
  )
    .requiredOption('--out <dir>', 'the folder to write ferry-VERSION-PLATFORM-ARCH.tar.gz into')
    .addHelpText(
      'after',
      '\nThe tar.gz holds ferry, its production dependencies with their native addons, and the\n' +
        'Node.js binary running this command: it runs on machines of this platform and\n' +
        'architecture (for linux-x64: glibc Linux) that have no Node.js and no internet.\n' +
        'Carry it with the archive, check it there (sha256sum), and as the first commands:\n' +
        '\n' +
        '  tar xzf ferry-VERSION-linux-x64.tar.gz\n' +
        '  ./ferry/bin/ferry init\n' +
        '  ./ferry/bin/ferry trust add PUBLISHER-KEY\n' +
        '  ./ferry/bin/ferry import release.car\n' +
        '\n' +
        'ferry/bin/ferry needs nothing on PATH and runs from any folder; a link to it (ln -s)\n' +
        'needs readlink. An unpacked bundle makes the same bundle again. --store is not used.',
    )
    .action(
      action<BundleFlags>(async (_args, options) => {
        const result = await writeBundle({ out: options.out })
        if (options.json) return printJson(result)
        process.stdout.write(
          `${result.path}\n` +
            `  ${formatBytes(result.size)} (${result.files} files, ${formatBytes(result.bytes)} unpacked; ` +
            `${result.packages} packages, node ${result.node.version})\n` +
            `  sha256 ${result.sha256}\n`,
        )
      }),
    )
}
