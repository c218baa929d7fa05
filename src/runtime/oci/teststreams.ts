/** Test streams for exec/attach: stdin to write to, stdout/stderr collected as text. */
import { PassThrough } from 'node:stream';

/** The streams and what arrived on stdout and stderr so far. */
export interface CapturedStreams {
  stdin: PassThrough;
  stdout: PassThrough;
  stderr: PassThrough;
  out(): string;
  err(): string;
}

/** Fresh PassThrough streams whose stdout/stderr output is collected. */
export function captureStreams(): CapturedStreams {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdin, stdout, stderr, out: () => out, err: () => err };
}
