// One transaction on a connection of its own, for the PostgreSQL store and the farm: committed
// when the work resolves, rolled back when it throws (a failed rollback, on a connection already
// lost, changes nothing more), and the connection given back either way.
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  // A checked-out client that loses its connection between two statements (the database restarts,
  // an operator ends the session) says so by an 'error' event, which unheard would end the daemon:
  // heard here, the next statement fails instead, and the connection is not given back for reuse.
  let lost: Error | undefined;
  const onError = (error: Error) => (lost ??= error);
  client.on('error', onError);
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
}
