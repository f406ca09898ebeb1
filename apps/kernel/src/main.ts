#!/usr/bin/env node
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { cli, ExitCode } from "./cli.js"

Command.run(cli, { version: "0.0.0" }).pipe(
  Effect.catchIf(
    (e): e is ExitCode => e instanceof ExitCode,
    (e) => Effect.sync(() => process.exit(e.code))
  ),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
