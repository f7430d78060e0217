import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSchedulerTargetResolver } from '../../adapters/gateway-agent/deployment-targets.ts';
import { createHaproxyProcess, stateForConfig } from '../../adapters/gateway-agent/haproxy-process.ts';
import { fromGatewayLogRecord } from '../../adapters/metrics/sink.ts';
import { parseLogLine } from '../../adapters/gateway-agent/log-line.ts';
import { renderConfig, renderGateway, renderSkeleton, renderStructure, type RenderOptions } from '../../adapters/gateway-agent/render.ts';
import { planServerChanges } from '../../adapters/gateway-agent/server-changes.ts';
import { validateGateway } from '../../engine/domain/gateways/validate.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { haproxyBin, haproxyWorkDir } from '../helpers/haproxy.ts';

let dir: { path: string; remove: () => Promise<void> };
let o: RenderOptions;
before(async () => {
  dir = await haproxyWorkDir();
  o = { dir: dir.path, bindAddress: '127.0.0.1', statsPort: 1988, logPort: 5514, hardStopAfter: '30s' };
});
after(async () => dir?.remove());

const t = (port: number) => [{ host: '127.0.0.1', port }];

test('rendered configs for every feature pass `haproxy -c`', async () => {
  const haproxy = createHaproxyProcess({ bin: haproxyBin(), dir: dir.path, logger: silentLogger() });
  const everything = validateGateway('shop', {
    port: 8080,
    sticky: 'instance',
    virtualHosts: ['shop.example.com', 'www.shop.example.com'],
    routes: {
      v1: { weight: 70, balance: 'leastconn', targets: [...t(9001), ...t(9002), ...t(9001)] },
      v2: { weight: 30, condition: `(header X-Canary == "it's" or cookie group == beta) and not user-agent == Bot`, conditionStrength: 25, targets: t(9003) },
      v3: { weight: 0, condition: 'path starts with /api and method == POST', targets: { deployment: 'shop-v3', port: 'http' } },
    },
  });
  const tcp = validateGateway('db', { port: 5432, mode: 'tcp', routes: { a: { weight: 50, targets: t(6001) }, b: { weight: 50, targets: t(6002) } } });
  const config = renderConfig(
    [
      { gateway: everything, servers: { v1: everything.routes.v1.targets as never, v2: t(9003), v3: [] } },
      { gateway: tcp, servers: { a: t(6001), b: t(6002) } },
    ],
    o,
  );
  const check = await haproxy.validate(config);
  assert.equal(check.ok, true, check.output);
  assert.match(config, /use_backend r\.shop\.v2 if c_0 !c_1 s_0 \|\| c_2 !c_1 s_0\n/, 'one dice roll (s_0) shared by both OR terms');
  assert.match(config, /acl c_0 req\.fhdr\(X-Canary\) -m str -- 'it'"'"'s'/);
  assert.match(config, /use_backend r\.shop\.v3 if c_3 c_4\n/, 'strength 100 needs no dice');
  assert.match(config, /server v1 unix@\S+ send-proxy-v2 weight 70 cookie v1/);
  assert.equal(config.match(/server 127\.0\.0\.1:9001 /g)?.length, 1, 'duplicate targets collapse into one server');
  assert.match(config, /balance leastconn/);
});

test('the structure ignores weights, so weight-only changes are recognised', () => {
  const a = validateGateway('shop', { port: 8080, routes: { v1: { weight: 90, targets: t(9001) }, v2: { weight: 10, targets: t(9002) } } });
  const b = validateGateway('shop', { port: 8080, routes: { v1: { weight: 20, targets: t(9001) }, v2: { weight: 80, targets: t(9002) } } });
  const c = validateGateway('shop', { port: 8080, routes: { v1: { weight: 20, targets: t(9001) }, v2: { weight: 80, targets: t(9009) } } });
  const r = (g: typeof a) => ({ gateway: g, servers: { v1: g.routes.v1.targets as never, v2: g.routes.v2.targets as never } });
  assert.notEqual(renderGateway(r(a), o), renderGateway(r(b), o));
  assert.equal(renderStructure(r(a), o), renderStructure(r(b), o));
  assert.notEqual(renderStructure(r(b), o), renderStructure(r(c), o));
});

test('route servers coming and going are planned as runtime changes where HAProxy 2.6 allows them', () => {
  const spec = (over: Record<string, unknown> = {}, route: Record<string, unknown> = {}) =>
    validateGateway('shop', { port: 8080, ...over, routes: { v1: { weight: 100, targets: { deployment: 'shop', port: 'http' }, ...route } } });
  const r = (g: ReturnType<typeof spec>, ...ports: number[]) => ({ gateway: g, servers: { v1: ports.flatMap(t) } });
  const g = spec();
  assert.equal(renderSkeleton(r(g, 9001), o), renderSkeleton(r(g, 9001, 9002), o), 'servers are not part of the skeleton');
  assert.notEqual(renderSkeleton(r(g, 9001), o), renderSkeleton(r(spec({ sticky: 'route' }), 9001), o));
  assert.deepEqual(planServerChanges(r(g, 9001, 9002), r(g, 9002, 9003, 9003)), {
    add: [
      { backend: 'r.shop.v1', name: '127.0.0.1:9003', address: '127.0.0.1:9003', options: ['check', 'inter 2s', 'pool-max-conn -1', 'pool-purge-delay 5s'] },
    ],
    remove: [{ backend: 'r.shop.v1', name: '127.0.0.1:9001', host: '127.0.0.1', port: 9001 }],
  });
  assert.deepEqual(planServerChanges(r(g, 9001, 9002), r(g, 9002, 9001)), { add: [], remove: [] }, 'order alone changes nothing');
  const tcp = spec({ mode: 'tcp' });
  assert.equal(typeof planServerChanges(r(tcp, 9001), r(tcp, 9002)), 'object', 'tcp routes balance leastconn: dynamic');
  assert.match(planServerChanges(r(spec({ sticky: 'instance' }), 9001), r(spec({ sticky: 'instance' }), 9001, 9002)) as string, /'cookie'/);
  assert.match(planServerChanges(r(spec({}, { balance: 'static-rr' }), 9001), r(spec({}, { balance: 'static-rr' }), 9002)) as string, /balance static-rr/);
  const named = { gateway: g, servers: { v1: [{ host: 'shop.internal', port: 9001 }] } };
  assert.match(planServerChanges(r(g), named) as string, /not an IP address/);
  assert.equal(typeof planServerChanges(named, r(g)), 'object', 'a named server can still be removed');
});

test('the server-state file keeps only the servers the config declares', () => {
  const config = renderConfig([{ gateway: validateGateway('shop', { port: 8080, routes: { v1: { targets: t(9001) } } }), servers: { v1: t(9001) } }], o);
  const state = [
    '1',
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state …',
    '4 w.shop 1 v1 - 2 0 100 100 3 1 0 0 0 0 0 0 - 0 - 0 0 - - 0',
    '6 r.shop.v1 1 127.0.0.1:9001 127.0.0.1 2 0 1 1 3 6 3 4 6 0 0 0 - 9001 - 0 0 - - 0',
    '6 r.shop.v1 2 127.0.0.1:9002 127.0.0.1 0 1 1 1 0 1 0 0 2 0 0 0 - 9002 - 0 0 - - 0',
    '',
  ].join('\n');
  assert.deepEqual(
    stateForConfig(state, config)
      .split('\n')
      .map((l) => l.split(' ')[3] ?? l),
    ['1', 'srv_id', 'v1', '127.0.0.1:9001', ''],
    'the server removed at runtime (in maintenance) is dropped',
  );
});

test('parseLogLine reads weighted, conditional and tcp lines and ignores anything else', () => {
  const weighted = parseLogLine(
    '{"ts":1795595677775,"ci":"127.0.0.1","cp":40000,"ft":"g.shop","b":"w.shop","s":"v1","is":"127.0.0.1:9001","m":"GET","u":"\\/a\\"b","st":200,"Tq":0,"Tw":0,"Tc":1,"Tr":3,"Tt":4,"B":118,"U":80,"term":"--NI","rc":0}\n',
  );
  assert.deepEqual(weighted, {
    timestamp: 1795595677775,
    gateway: 'shop',
    route: 'v1',
    instance: '127.0.0.1:9001',
    mode: 'http',
    client: { ip: '127.0.0.1', port: 40000 },
    method: 'GET',
    uri: '/a"b',
    status: 200,
    timings: { request: 0, queue: 0, connect: 1, response: 3, total: 4 },
    bytesOut: 118,
    bytesIn: 80,
    termination: '--NI',
    retries: 0,
  });
  const conditional = parseLogLine(
    '{"ts":1,"ci":"127.0.0.1","cp":1,"ft":"g.shop","b":"r.shop.v2.1","s":"127.0.0.1:9003","is":"127.0.0.1:9003","m":"GET","u":"/","st":200,"Tq":0,"Tw":0,"Tc":0,"Tr":0,"Tt":0,"B":1,"U":1,"term":"----","rc":0}',
  );
  assert.equal(conditional?.route, 'v2.1');
  assert.equal(conditional?.instance, '127.0.0.1:9003');
  const noServer = parseLogLine(
    '{"ts":1,"ci":"127.0.0.1","cp":1,"ft":"g.shop","b":"w.shop","s":"<NOSRV>","is":"-","m":"GET","u":"/","st":503,"Tq":0,"Tw":-1,"Tc":-1,"Tr":-1,"Tt":0,"B":1,"U":1,"term":"SC--","rc":0}',
  );
  assert.equal(noServer?.route, undefined);
  assert.equal(noServer?.status, 503);
  assert.equal(noServer?.timings.connect, -1);
  const tcp = parseLogLine('{"ts":1,"ci":"127.0.0.1","cp":1,"ft":"g.db","b":"w.db","s":"a","Tw":0,"Tc":0,"Tt":12,"B":10,"U":5,"term":"--","rc":0}');
  assert.equal(tcp?.mode, 'tcp');
  assert.equal(tcp?.route, 'a');
  assert.equal(tcp?.status, undefined);
  assert.equal(parseLogLine('Proxy g.shop started.'), undefined);
  assert.equal(parseLogLine('{"ft":"stats","ts":1}'), undefined);
  assert.equal(parseLogLine('{broken'), undefined);
});

test('log records map onto metrics samples', () => {
  const r = parseLogLine(
    '{"ts":5,"ci":"127.0.0.1","cp":1,"ft":"g.shop","b":"w.shop","s":"v1","is":"127.0.0.1:9001","m":"GET","u":"/","st":502,"Tq":0,"Tw":0,"Tc":0,"Tr":7,"Tt":9,"B":10,"U":1,"term":"----","rc":0}',
  )!;
  assert.deepEqual(fromGatewayLogRecord(r), { time: 5, gateway: 'shop', route: 'v1', server: '127.0.0.1:9001', status: 502, durationMs: 9, bytes: 10 });
});

test('deployment targets resolve to ready endpoints of the named port', async () => {
  const endpoints = [
    { host: '10.0.0.1', port: 8080, ready: true, name: 'http' },
    { host: '10.0.0.2', port: 8080, ready: false, name: 'http' },
    { host: '10.0.0.1', port: 9090, ready: true, name: 'metrics' },
  ];
  const resolve = createSchedulerTargetResolver({
    get: async (name: string) => {
      if (name !== 'shop') throw Object.assign(new Error('no such deployment'), { code: 'SCHEDULER.NOT_FOUND' });
      return { name, desiredInstances: 2, readyInstances: 1, labels: {}, status: 'ready', endpoints };
    },
  });
  assert.deepEqual(await resolve('shop', 'http'), [{ host: '10.0.0.1', port: 8080 }]);
  assert.deepEqual(await resolve('shop', 9090), [{ host: '10.0.0.1', port: 9090 }]);
  assert.deepEqual(await resolve('gone', 'http'), []);
});
