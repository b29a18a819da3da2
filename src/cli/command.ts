// What every command is made of: its options, the checks that need no database, and the
// work, which gets the database as the service sees it.
import type pg from 'pg';
import type { Env } from '../config/env.ts';
import type { Db } from '../db/prisma.ts';
import { storedTextProblem } from '../stored-text.ts';

export const RUN = 'npm run cli --';

/** A mistake on the command line (exit code 2); `usage` (else the general one) is printed after the message. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** What a command prints: `text` for people, `json` with `--json` for scripts. */
export interface Output {
  text: string;
  json: unknown;
  /** The work was done in part only: exit code 1, after the output. */
  incomplete?: boolean;
}

/** The database as the service sees it, for commands that go through the service's own code. */
export interface Connection {
  env: Env;
  url: string;
  pool: pg.Pool;
}

export type Task = (db: Db, connection: Connection) => Promise<Output>;

type Args<R extends string, O extends string> = Record<R, string> & Partial<Record<O, string>>;

interface CommandSpec<R extends string, O extends string> {
  summary: string;
  /** Option name → what its value is, for the usage line. */
  required: Record<R, string>;
  optional?: Record<O, string>;
  /** Checks what needs no database (so mistakes exit before it starts), then returns the work. */
  prepare: (args: Args<R, O>) => Task;
}

export interface Command {
  summary: string;
  required: Record<string, string>;
  optional: Record<string, string>;
  prepare: (args: Record<string, string>) => Task;
}

export function command<R extends string, O extends string = never>(spec: CommandSpec<R, O>): Command {
  return {
    summary: spec.summary,
    required: spec.required,
    optional: spec.optional ?? {},
    prepare: (args) => spec.prepare(args as Args<R, O>),
  };
}

/** A name as it will be stored and shown: one line, without control, direction or zero-width characters. */
export function nameOption(option: string, value: string): string {
  const name = value.trim();
  const problem = name ? storedTextProblem(name) : 'is empty';
  if (problem) throw new UsageError(`--${option}: the name ${problem}.`);
  return name;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ');
  return [header, ...rows].map((row) => line(row).trimEnd()).join('\n');
}

export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return error.errors.map(messageOf).join('; ');
  if (error instanceof Error) return error.message;
  return error === undefined ? '' : String(error);
}
