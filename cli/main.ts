#!/usr/bin/env node
// First: libp2p needs Promise.withResolvers, which Node 20 lacks.
import { Command } from 'commander'
import { registerArchive } from './commands/archive.js'
import { registerBom } from './commands/bom.js'
import { registerCat } from './commands/cat.js'
import { registerDaemon } from './commands/daemon.js'
import { registerGc } from './commands/gc.js'
import { registerInit } from './commands/init.js'
import { registerKeys } from './commands/keys.js'
import { registerLs } from './commands/ls.js'
import { registerPeers } from './commands/peers.js'
import { registerSecret } from './commands/secret.js'
import { registerStatus } from './commands/status.js'
import { registerSync } from './commands/sync.js'
import { registerVerify } from './commands/verify.js'

const program = new Command('ferry')
  .description(
    'ferry gets container images, files and OS packages onto machines without internet, and keeps them up to date.\n' +
      'Content lives in a content-addressed store; each release is a signed head over a Merkle DAG.',
  )
  .version('0.1.0', '-V, --ferry-version')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nEvery command takes --store DIR (default: $FERRY_STORE, else ~/.ferry) and --json.\n' +
      'Run `ferry COMMAND --help` for its options.',
  )

registerInit(program)
registerBom(program)
registerLs(program)
registerCat(program)
registerVerify(program)
registerGc(program)
registerArchive(program)
registerStatus(program)
registerKeys(program)
registerDaemon(program)
registerSync(program)
registerPeers(program)
registerSecret(program)

await program.parseAsync(process.argv)
