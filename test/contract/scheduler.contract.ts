import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, SchedulerDriver } from '../../engine/ports/scheduler.ts';

/**
 * The SchedulerDriver contract, run against every driver (test/contract/scheduler.<driver>.test.ts):
 * local (real processes), the Kubernetes/Marathon/Rancher protocol doubles, a real cluster when
 * configured, and the in-memory double the capability and route tests use.
 * A fixture owns one deployment for the whole suite; each case first brings it to a known
 * instance count, so the suite also works on a real cluster with one pre-existing deployment.
 */
export interface SchedulerFixture {
  driver: SchedulerDriver;
  /** Name of a deployment the suite may scale; provisioned (or pre-existing) with `instances` ready. */
  deployment: string;
  /** Stops whatever the fixture started. */
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Bound for each waitReady; real clusters need more. */
  readyTimeoutMs?: number;
  /** Highest instance count used (the suite scales between 1 and this). */
  maxInstances?: number;
}

export function schedulerContract(label: string, setup: () => Promise<SchedulerFixture>, options: ContractOptions = {}): void {
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const max = options.maxInstances ?? 3;
  describe(`SchedulerDriver contract: ${label}`, () => {
    let f: SchedulerFixture;
    let driver: SchedulerDriver;
    let name: string;
    const settle = async (instances: number): Promise<Deployment> => {
      await driver.scale(name, { instances });
      return driver.waitReady(name, { timeoutMs });
    };
    const readyEndpoints = (d: Deployment) => d.endpoints.filter((e) => e.ready);

    before(async () => {
      f = await setup();
      driver = f.driver;
      name = f.deployment;
    });
    after(async () => {
      await f?.close();
    });

    it('get describes a ready deployment: instances, status, labels, one ready endpoint per instance', async () => {
      const d = await settle(2);
      assert.equal(d.name, name);
      assert.equal(d.desiredInstances, 2);
      assert.equal(d.readyInstances, 2);
      assert.equal(d.status, 'ready');
      assert.equal(typeof d.labels, 'object');
      const eps = readyEndpoints(d);
      assert.equal(eps.length, 2, JSON.stringify(d.endpoints));
      for (const e of eps) {
        assert.equal(typeof e.host, 'string');
        assert.ok(Number.isInteger(e.port) && e.port > 0);
      }
      assert.ok(d.image !== undefined || d.command !== undefined, 'names what runs (image or command)');
    });

    it('list includes the deployment', async () => {
      const all = await driver.list();
      const d = all.find((x) => x.name === name);
      assert.ok(d, `list() has '${name}': ${all.map((x) => x.name).join(', ')}`);
      assert.equal(d.desiredInstances, 2);
    });

    it('get of an unknown deployment throws SCHEDULER.NOT_FOUND naming the driver and the deployment', async () => {
      await assert.rejects(driver.get('veer-no-such-deployment'), (err: any) => {
        assert.equal(err.code, 'SCHEDULER.NOT_FOUND');
        assert.match(err.message, new RegExp(`^${driver.kind}: .*'veer-no-such-deployment'`));
        return true;
      });
      await assert.rejects(driver.scale('veer-no-such-deployment', { instances: 1 }), { code: 'SCHEDULER.NOT_FOUND' });
    });

    it('scale up is accepted at once and waitReady resolves when every instance is ready', async () => {
      await settle(1);
      const accepted = await driver.scale(name, { instances: max });
      assert.equal(accepted.desiredInstances, max);
      const d = await driver.waitReady(name, { timeoutMs });
      assert.equal(d.status, 'ready');
      assert.equal(d.readyInstances, max);
      assert.equal(readyEndpoints(d).length, max);
    });

    it('scale down leaves only the remaining instances as ready endpoints', async () => {
      await settle(max);
      await driver.scale(name, { instances: 1 });
      const d = await driver.waitReady(name, { timeoutMs });
      assert.equal(d.desiredInstances, 1);
      assert.equal(d.readyInstances, 1);
      assert.equal(readyEndpoints(d).length, 1);
    });

    it('waitReady throws SCHEDULER.TIMEOUT while a rollout is still progressing, and honours its signal', async () => {
      await settle(1);
      await driver.scale(name, { instances: max });
      await assert.rejects(driver.waitReady(name, { timeoutMs: 1 }), (err: any) => {
        assert.equal(err.code, 'SCHEDULER.TIMEOUT');
        assert.match(err.message, new RegExp(`${driver.kind}: deployment '${name}'.*not ready within 1 ms`));
        return true;
      });
      const ac = new AbortController();
      ac.abort(new Error('run cancelled'));
      await assert.rejects(driver.waitReady(name, { timeoutMs, signal: ac.signal }), /run cancelled/);
      await driver.waitReady(name, { timeoutMs });
    });

    it('an invalid scale request is refused with SCHEDULER.INVALID and changes nothing', async () => {
      await settle(1);
      await assert.rejects(driver.scale(name, { instances: -1 }), { code: 'SCHEDULER.INVALID' });
      await assert.rejects(driver.scale(name, { memory: 'lots' }), { code: 'SCHEDULER.INVALID' });
      assert.equal((await driver.get(name)).desiredInstances, 1);
    });

    it('cpu and memory per instance: set when capabilities.resources, refused otherwise', async () => {
      await settle(1);
      if (!driver.capabilities.resources) {
        await assert.rejects(driver.scale(name, { cpu: 0.25 }), (err: any) => err.code === 'SCHEDULER.INVALID' && /cpu or memory/.test(err.message));
        return;
      }
      const accepted = await driver.scale(name, { cpu: 0.25, memory: '128Mi' });
      assert.equal(accepted.cpu, 0.25);
      assert.equal(accepted.memory, 128 * 1024 * 1024);
      const d = await driver.waitReady(name, { timeoutMs });
      assert.equal(d.cpu, 0.25);
      assert.equal(d.memory, 128 * 1024 * 1024);
      assert.equal(d.readyInstances, 1);
    });
  });
}
