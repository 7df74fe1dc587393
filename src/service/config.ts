/**
 * What every process of one service shares through its data directory: the pipeline preset and the
 * public base model. `serve` writes it; workers read it, so they run the same parameters.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../api/errors';
import type { BootstrapPreset } from '../api/bootstrap';
import { loadCheckpoint } from '../model/checkpoint';
import type { Model } from '../model/model';
import { pretrainedFile } from '../model/setup';
import { PIPELINE_PRESETS } from '../private/presets';
import { PrivateInferenceServer } from '../private/server';

export interface ServiceConfig {
  /** A key of PIPELINE_PRESETS. */
  preset: string;
  /** Checkpoint of the public base model (its adapters and head are not used). */
  modelFile: string;
  /** The test preset is insecure; the service runs it only with this flag. */
  allowInsecureParametersForTestsOnly: boolean;
  /** Most row groups one inference request may hold. */
  maxGroups: number;
  /**
   * Private fine-tuning offered (the `finetune` job kind): the plan then asks clients for the
   * training kernels' rotation keys too. Older service.json files lack it: false.
   */
  training?: boolean;
}

export const DEFAULT_CONFIG: ServiceConfig = { preset: 'secure', modelFile: pretrainedFile('hefriendly'), allowInsecureParametersForTestsOnly: false, maxGroups: 8, training: true };

const configFile = (dataDir: string) => path.join(dataDir, 'service.json');
export const databaseFile = (dataDir: string) => path.join(dataDir, 'cipherlm.sqlite');

export function writeConfig(dataDir: string, config: ServiceConfig): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = `${configFile(dataDir)}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(config, null, 2));
  fs.renameSync(tmp, configFile(dataDir));
}

export function readConfig(dataDir: string): ServiceConfig {
  if (!fs.existsSync(configFile(dataDir))) throw new InvalidArgumentError(`${dataDir} holds no service.json: start \`cipherlm serve\` on it first`, 'ERR_INVALID_ARGUMENT');
  return JSON.parse(fs.readFileSync(configFile(dataDir), 'utf8')) as ServiceConfig;
}

export function presetOf(config: ServiceConfig): BootstrapPreset {
  const preset = PIPELINE_PRESETS[config.preset];
  if (!preset) throw new InvalidArgumentError(`unknown preset ${config.preset}; known: ${Object.keys(PIPELINE_PRESETS).join(', ')}`, 'ERR_INVALID_ARGUMENT');
  return preset;
}

export function loadBaseModel(config: ServiceConfig): Model {
  return loadCheckpoint(config.modelFile).model;
}

/** A private-inference server for the configuration: holds no client keys until they are given. */
export function createInferenceServer(config: ServiceConfig, model: Model, threads: number): Promise<PrivateInferenceServer> {
  return PrivateInferenceServer.create({
    model,
    preset: presetOf(config),
    threads,
    maxGroups: config.maxGroups,
    allowInsecureParametersForTestsOnly: config.allowInsecureParametersForTestsOnly,
    training: config.training === true,
  });
}
