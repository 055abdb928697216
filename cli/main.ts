#!/usr/bin/env node
/*
 * ferry's entry point. It loads nothing but node built-ins before deciding
 * whether this command runs here or in a relaunched process (launch.ts),
 * so that relaunching costs one node start-up and no module loading.
 */
import { relaunchForBulk } from './launch.js'

if (!(await relaunchForBulk(process.argv))) await import('./program.js')
