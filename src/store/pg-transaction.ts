// One transaction on a connection of its own, for the PostgreSQL store and the farm: committed
// when the work resolves, rolled back when it throws (a failed rollback, on a connection already
// lost, changes nothing more), and the connection given back either way.
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
