/**
 * The conformance scenario format (conformance/FORMAT.md): scenarios are
 * language-neutral steps; results record what each step returned, the
 * normalised mount table and the file tree at the end, so a file recorded
 * on the real kernel compares with one recorded on simkernel.
 */

/** One argument as a scenario file writes it. */
export type Arg = number | string | null | ReadonlyArray<number | string> | { readonly [k: string]: unknown }

export interface Step {
  readonly call: string
  readonly args?: ReadonlyArray<Arg>
  /** Bind the returned value (an fd, a pid) to a name; -1 when the call failed. */
  readonly save?: string
  /** A forked process's steps (fork, fork_into_container). */
  readonly child?: ReadonlyArray<Step>
}

export interface Scenario {
  readonly name: string
  readonly tags?: ReadonlyArray<string>
  readonly refs?: ReadonlyArray<string>
  readonly note?: string
  readonly steps: ReadonlyArray<Step>
}

export interface ScenarioFile {
  readonly format: number
  readonly description?: string
  readonly scenarios: ReadonlyArray<Scenario>
}

/** What one step gave: exactly one of ret, errno or runner_error (plus a child's results). */
export type StepResult =
  | { readonly call: string; readonly ret: unknown; readonly child?: ReadonlyArray<StepResult> }
  | { readonly call: string; readonly errno: string }
  | { readonly call: string; readonly runner_error: string }

export interface NormalisedMount {
  readonly id: string
  readonly parent: string | null
  readonly mountpoint: string
  readonly root: string
  readonly fstype: string
  readonly source: string
  readonly options: string
  readonly super: string
  readonly sb: string
  readonly propagation: string
}

export interface ScenarioResult {
  readonly steps: ReadonlyArray<StepResult>
  readonly mounts: ReadonlyArray<NormalisedMount>
  readonly tree: Readonly<Record<string, string>>
}

export interface ResultsFile {
  readonly meta: { readonly arch: string; readonly format: number; readonly kernel: string; readonly scenario_count: number }
  readonly scenarios: Readonly<Record<string, ScenarioResult>>
}
