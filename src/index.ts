export { CkksContext, type ContextOptions, type MemoryPoolStats, type SimdPath } from './api/context';
export { CkksEncoder, type EncodeOptions, type ComplexVector } from './api/encoder';
export { Plaintext } from './api/plaintext';
export { Ciphertext } from './api/ciphertext';
export {
  KeyGenerator,
  SecretKey,
  PublicKey,
  RelinKey,
  GaloisKeys,
  type SecretKeyOptions,
  type GaloisKeyOptions,
  type GaloisKeyInfo,
  type KeySaveOptions,
} from './api/keys';
export { Encryptor, Decryptor, type EncryptOptions } from './api/encryptor';
export { Evaluator } from './api/evaluator';
export { load, type Loadable } from './api/serialize';
export { SealFormat, type SealCompression, type SealContextOptions, type SealObject } from './api/seal';
export {
  CipherlmError,
  InvalidArgumentError,
  InsecureParametersError,
  ParameterMismatchError,
  KeyMismatchError,
  LevelMismatchError,
  ScaleMismatchError,
  MissingKeyError,
  OutOfRangeError,
  DeserializationError,
  DisposedError,
  SealIncompatibleError,
  UnsupportedError,
  InternalError,
} from './api/errors';
export {
  Bootstrapper,
  BOOTSTRAP_PRESETS,
  type BootstrapOptions,
  type BootstrapPreset,
  type BootstrapPresetName,
  type BootstrapStage,
  type BootstrapCallOptions,
  type BootstrapKeys,
} from './api/bootstrap';
export { PrivateInferenceServer, type ServerOptions, type InferenceProgress } from './private/server';
export { PrivateInferenceClient, type ClientOptions, type Batch } from './private/client';
export { PIPELINE_PRESETS } from './private/presets';
export { type PrivateInferencePlan } from './private/plan';
export { Model, type ModelConfig } from './model/model';
export { loadCheckpoint, saveCheckpoint } from './model/checkpoint';
export { describeModel, type ModelDescription } from './model/description';
