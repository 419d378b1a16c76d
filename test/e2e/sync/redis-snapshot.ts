import Redis from 'ioredis';

/** Coordination keys change on every pass by design (leases, locks, counters, run history): not data. */
const COORDINATION = /(lease|fence|mutex|lock|throttl|ratelimit|jobs:|job:|job-run:)/;

/** Every data key under the prefix with its exact value, for byte-for-byte comparisons. */
export async function redisSnapshot(url: string, prefix: string): Promise<Record<string, string>> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  try {
    const keys = (await redis.keys(`${prefix}*`)).filter((k) => !COORDINATION.test(k)).sort();
    const out: Record<string, string> = {};
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') out[key] = (await redis.get(key)) ?? '';
      else if (type === 'zset') out[key] = JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
      else if (type === 'hash') out[key] = JSON.stringify(await redis.hgetall(key));
      else out[key] = `<${type}>`;
    }
    return out;
  } finally {
    redis.disconnect();
  }
}
