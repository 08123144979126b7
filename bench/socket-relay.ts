// The floor of one extra hop: a process that copies bytes between each client connection and
// its own upstream connection, with no HTTP parsing at all. What it adds over calling the
// upstream directly is the cost of a second process and two more loopback sockets on this
// machine; what the reference forwarder adds beyond it is node:http + undici.
// usage: node bench/socket-relay.ts --port N --upstream http://127.0.0.1:M
import { connect, createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const upstream = new URL(values.upstream ?? 'http://127.0.0.1:4010');

createServer((client) => {
  const server = connect(Number(upstream.port), upstream.hostname);
  client.setNoDelay(true);
  server.setNoDelay(true);
  client.pipe(server).pipe(client);
  client.on('error', () => server.destroy());
  server.on('error', () => client.destroy());
  client.on('close', () => server.destroy());
  server.on('close', () => client.destroy());
}).listen(Number(values.port ?? 8082), '127.0.0.1');
