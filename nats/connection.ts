import { connect, type NatsConnection } from 'nats';
import { errorMessage, LanevisorError } from '../index.js';
import { connectionOptionsOf, type NatsServerOptions, redactedUrl, serverListOf } from './options.js';
import { natsCodeOf } from './wire.js';

const AUTH_CODES = new Set(['AUTHORIZATION_VIOLATION', 'BAD_AUTHENTICATION', 'BAD_CREDS', 'AUTHENTICATION_EXPIRED']);

/**
 * A connection to NATS that reconnects by itself for as long as it is open. The first connection
 * must succeed: a server that cannot be reached is UNAVAILABLE, refused credentials INVALID_ARGUMENT.
 */
export async function openNatsConnection(options: NatsServerOptions, defaultName: string): Promise<NatsConnection> {
  const servers = serverListOf(options).map(redactedUrl).join(', ');
  try {
    return await connect(connectionOptionsOf(options, defaultName));
  } catch (error) {
    const code = natsCodeOf(error) ?? '';
    if (AUTH_CODES.has(code)) {
      throw new LanevisorError(
        'INVALID_ARGUMENT',
        `NATS at ${servers} refused the credentials: ${errorMessage(error)}`,
        {
          cause: error,
          details: { field: 'options' },
        },
      );
    }
    throw new LanevisorError(
      'UNAVAILABLE',
      `NATS at ${servers} cannot be reached (${errorMessage(error)}); is nats-server running there?`,
      { cause: error },
    );
  }
}
