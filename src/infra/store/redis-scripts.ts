/**
 * Lua scripts shared by the Redis (ioredis) and Upstash adapters. Each runs atomically on the
 * server, which is what makes leases, fencing and owner-only release safe across replicas.
 */

/**
 * Takes a lease when free (an expired lease has vanished through PX).
 * KEYS: lease key, fencing counter key. ARGV: owner token, ttl ms.
 * Returns the new fencing token, or nil when someone holds the lease.
 */
export const ACQUIRE_LEASE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return nil
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return fence
`;

/**
 * Extends a key's TTL only while it still holds the caller's token.
 * KEYS: key. ARGV: token, ttl ms. Returns 1 when extended, 0 otherwise.
 */
export const EXTEND_IF_OWNER_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/**
 * Deletes a key only while it still holds the caller's token (lease release, mutex unlock).
 * KEYS: key. ARGV: token. Returns 1 when deleted, 0 otherwise.
 */
export const DELETE_IF_OWNER_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * INCRBY that sets a TTL only when it creates the counter.
 * KEYS: counter key. ARGV: increment, ttl ms (0 for none). Returns the new value.
 */
export const INCREMENT_SCRIPT = `
local created = redis.call('EXISTS', KEYS[1]) == 0
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if created and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
`;

/**
 * Files members in some sorted sets of a family and removes them from the others (sortedSetPlace).
 * KEYS: the family's sets. ARGV: member count, then per member: member, score, and the 0-based
 * positions in KEYS of the sets it belongs to, comma-separated (empty: none). Returns the count.
 */
export const PLACE_MEMBERS_SCRIPT = `
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local member = ARGV[2 + i * 3]
  local score = ARGV[3 + i * 3]
  local inside = {}
  for position in string.gmatch(ARGV[4 + i * 3], '%d+') do
    inside[tonumber(position) + 1] = true
  end
  for k = 1, #KEYS do
    if inside[k] then
      redis.call('ZADD', KEYS[k], score, member)
    else
      redis.call('ZREM', KEYS[k], member)
    end
  end
end
return n
`;

/**
 * One fixed-window rate-limit reservation, check and count in one atomic step (one round trip).
 * KEYS: counter key, block key. ARGV: window ms, limit, block ms (0: block until the window ends),
 * hits wanted (by). While the block key lives, nothing is counted. Otherwise the counter grows by
 * min(by, what is left under the limit), at least 1 (a new counter gets the window as its TTL); a
 * counter past the limit writes the block key.
 * Returns { hits, ms until the window (while blocked: the block) ends, blocked-for ms (0 when
 * allowed), hits granted (0 when refused) }.
 */
export const RATE_LIMIT_HIT_SCRIPT = `
local limit = tonumber(ARGV[2])
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {limit + 1, blocked, blocked, 0}
end
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[4]), limit - current)
if grant < 1 then grant = 1 end
local hits = redis.call('INCRBY', KEYS[1], grant)
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  left = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], left)
end
if hits > limit then
  local block = tonumber(ARGV[3])
  if block <= 0 then block = left end
  redis.call('SET', KEYS[2], '1', 'PX', block)
  return {hits, left, block, 0}
end
return {hits, left, 0, grant}
`;
