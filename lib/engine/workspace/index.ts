export { HostStorage } from './storage';
export { collectArtifacts, restoreArtifacts, listArtifacts, stageArtifactDirName, type ArtifactCount } from './artifacts';
export { CacheStore, KeyLock, type CacheLease, type CacheStoreOptions } from './cache';
