#!/usr/bin/env node
import { main } from '../dist/main.js';

// Exit explicitly: pooled apiserver connections must not keep a stopped operator alive.
process.exit(await main(process.argv.slice(2)));
