// The benchmarks start nats-server the same way; one launcher for both.
export { NATS_SERVER, type NatsServerFixture, startNatsServer } from '../../bench/nats-server.js';
