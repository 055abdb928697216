/*
 * The ferry command line: every command, registered on one commander program.
 * `main.ts` runs it (in a relaunched process for bulk commands, see launch.ts).
 */
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { registerAptKey } from './commands/apt-key.js'
import { registerArchive } from './commands/archive.js'
import { registerBom } from './commands/bom.js'
import { registerBundle } from './commands/bundle.js'
import { registerCat } from './commands/cat.js'
import { registerClientConfig } from './commands/client-config.js'
import { registerDaemon } from './commands/daemon.js'
import { registerDownload } from './commands/download.js'
import { registerGc } from './commands/gc.js'
import { registerInit } from './commands/init.js'
import { registerKeys } from './commands/keys.js'
import { registerLoad } from './commands/load.js'
import { registerLs } from './commands/ls.js'
import { registerPeers } from './commands/peers.js'
import { registerSecret } from './commands/secret.js'
import { registerStatus } from './commands/status.js'
import { registerSync } from './commands/sync.js'
import { registerVerify } from './commands/verify.js'
import { endQuietlyOnClosedOutput } from './output.js'

endQuietlyOnClosedOutput()

/** The version in package.json (dist/cli/main.js → ../../package.json), the one source of it. */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
}

const program = new Command('ferry')
  .description(
    'ferry gets container images, files and OS packages onto machines without internet, and keeps them up to date.\n' +
      'Content lives in a content-addressed store; each release is a signed head over a Merkle DAG.',
  )
  .version(version, '-V, --version')
  // Options written before the command are ferry's, after it the command's: so `ferry --version`
  // prints the version and `ferry bom build … --version 2026.11` is the release's version.
  .enablePositionalOptions()
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nEvery command takes --store DIR (default: $FERRY_STORE, else ~/.ferry) and --json.\n' +
      'Run `ferry COMMAND --help` for its options.',
  )

registerInit(program)
registerBom(program)
registerDownload(program)
registerLs(program)
registerCat(program)
registerLoad(program)
registerVerify(program)
registerGc(program)
registerArchive(program)
registerStatus(program)
registerKeys(program)
registerAptKey(program)
registerClientConfig(program)
registerDaemon(program)
registerSync(program)
registerPeers(program)
registerSecret(program)
registerBundle(program)

await program.parseAsync(process.argv)
