/** What a command of the command line reads and writes: streams, environment, and the stop signal. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly env: NodeJS.ProcessEnv
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); `start` waits on it. */
  readonly stopSignal: Promise<string>
}
