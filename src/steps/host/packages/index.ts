export { packagesStep, packageManager } from './step.js';
export { containerdPackage, wantedPackages, versionMatches, pickVersion, compareVersions, kubeVersion, type WantedPackage } from './wanted.js';
export { repositoryPlan, armorKey, kubernetesRepoUrl, dockerRepoUrl } from './repos.js';
