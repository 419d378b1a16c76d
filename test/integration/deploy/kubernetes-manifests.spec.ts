import { getMetadataStorage } from 'class-validator';
import { loadAll, load } from 'js-yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/config.loader';
import { EnvironmentVariables } from '../../../src/config/env.schema';

const DIR = join(__dirname, '..', '..', '..', 'deploy', 'kubernetes');

/** kubernetes-models validates each object against the Kubernetes OpenAPI schema of its kind. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/Namespace': Namespace,
};

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any };

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const kustomization = load(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
  };
  const objects: Obj[] = kustomization.resources.flatMap(
    (file) => loadAll(readFileSync(join(DIR, file), 'utf8')).filter(Boolean) as Obj[],
  );
  const find = (kind: string, name?: string) =>
    objects.find((o) => o.kind === kind && (!name || o.metadata.name === name))!;
  const deployment = find('Deployment');
  const config = find('ConfigMap').data as Record<string, string>;
  const secret = find('Secret').stringData as Record<string, string>;
  const pod = deployment.spec.template.spec;
  const api = pod.containers[0];

  it('lists every manifest of the folder in the kustomization', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it.each([
    'Deployment',
    'StatefulSet',
    'Service',
    'PodDisruptionBudget',
    'ConfigMap',
    'Secret',
    'Namespace',
  ])('has a %s that validates against the Kubernetes schema', (kind) => {
    const docs = objects.filter((o) => o.kind === kind);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model).toBeDefined();
      expect(() => new Model(doc).validate()).not.toThrow();
    }
  });

  it('the validator rejects a broken manifest (so the checks above mean something)', () => {
    const broken = structuredClone(deployment);
    broken.spec.replicas = 'two';
    delete broken.spec.template.spec.containers[0].name;
    expect(() => new Deployment(broken).validate()).toThrow();
  });

  it('runs two replicas with startup, liveness and readiness probes on the service endpoints', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(api.startupProbe.httpGet.path).toBe('/health/live');
    expect(api.livenessProbe.httpGet.path).toBe('/health/live');
    expect(api.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(api.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(api.resources.limits.memory).toEqual(expect.any(String));
  });

  it('runs as a non-root user without privilege escalation, on a read-only root filesystem', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number) });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(api.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('matches the grace period and readiness probe to the shutdown settings', () => {
    const { shutdownDelayMs, shutdownTimeoutMs } = loadConfig({ ...config, ...secret }).operations;
    // The kubelet's SIGKILL must come after the service's own deadline.
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdownTimeoutMs);
    // Readiness must have failed before the listener closes at the end of the delay.
    const { periodSeconds, failureThreshold } = api.readinessProbe;
    expect(periodSeconds * failureThreshold * 1000).toBeLessThanOrEqual(shutdownDelayMs);
  });

  it('configures only variables the service reads, with values it accepts', () => {
    const known = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(EnvironmentVariables, '', true, false)
        .map((m) => m.propertyName),
    );
    expect(Object.keys({ ...config, ...secret }).filter((k) => !known.has(k))).toEqual([]);
    const loaded = loadConfig({ ...config, ...secret });
    expect(loaded.store.kind).toBe('redis');
    expect(loaded.app.nodeEnv).toBe('production');
  });

  it('wires the Service, the PodDisruptionBudget and the env sources to the Deployment', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(find('Service', 'gpu-control-plane').spec.selector);
    expect(labels).toMatchObject(find('PodDisruptionBudget').spec.selector.matchLabels);
    expect(find('PodDisruptionBudget').spec.minAvailable).toBe(1);
    expect(api.envFrom).toEqual([
      { configMapRef: { name: find('ConfigMap').metadata.name } },
      { secretRef: { name: find('Secret').metadata.name } },
    ]);
    expect(secret.REDIS_URL).toContain(find('Service', 'gpu-control-plane-redis').metadata.name);
  });
});
