// A tiny HTTP service for trying Veer locally: answers "<VERSION> <port>" on every path,
// "ok" on /health, and fails FAIL_RATE of requests with a 500 (to watch a rollback).
import { createServer } from 'node:http';

const version = process.env.VERSION ?? 'v1';
const failRate = Number(process.env.FAIL_RATE ?? 0);
const port = Number(process.env.PORT ?? 8000);
const server = createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (Math.random() < failRate) {
    res.statusCode = 500;
    return res.end(`${version} failed\n`);
  }
  res.end(`${version} ${port}\n`);
});
server.listen(port, process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
