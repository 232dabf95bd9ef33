/// The Lua scripts that make admission and settlement atomic in Redis.
///
/// `admit` is a line-by-line port of `AdmissionEvaluator` + `GCRA.evaluate` (TollgateCore/Limits):
/// budgets are checked first, then every GCRA rule; nothing is written unless all pass. All times are
/// integer microseconds (Lua numbers are doubles, exact to 2^53), so results match the Swift math.
enum RedisScripts {
    /// KEYS: n rule keys, then m budget keys.
    /// ARGV: now (-1 = Redis TIME), n, n×(interval, limit, cost, tolerance), m,
    ///       m×(tokenLimit|-1, microsLimit|-1, reserveTokens, reserveMicros, ttlSeconds|-1).
    /// Returns {status(1 ok, 0 rate, 2 budget), index, dimension(1 tokens, 2 usd), now, n×(remaining, reset, retry)}.
    static let admit = RedisScript(
        """
        local now = tonumber(ARGV[1])
        if now < 0 then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        end
        local n = tonumber(ARGV[2])
        local bb = 3 + 4 * n
        local m = tonumber(ARGV[bb])
        for j = 1, m do
          local b = bb + (j - 1) * 5
          local tl = tonumber(ARGV[b + 1])
          local ul = tonumber(ARGV[b + 2])
          local cur = redis.call('HMGET', KEYS[n + j], 't', 'u')
          local ct = tonumber(cur[1]) or 0
          local cu = tonumber(cur[2]) or 0
          if tl >= 0 and ct >= tl then return {2, j, 1, now} end
          if ul >= 0 and cu >= ul then return {2, j, 2, now} end
        end
        local out = {1, 0, 0, now}
        local newtat = {}
        local worst = -1
        for i = 1, n do
          local a = 2 + (i - 1) * 4
          local T = tonumber(ARGV[a + 1])
          local limit = tonumber(ARGV[a + 2])
          local cost = tonumber(ARGV[a + 3])
          local tol = tonumber(ARGV[a + 4])
          local tat = tonumber(redis.call('GET', KEYS[i])) or 0
          local remaining, reset, retry
          if limit <= 0 then
            remaining = 0
            reset = T
            retry = T
          else
            local base = math.max(tat, now)
            local check = base + math.min(cost, limit) * T
            if check - now > tol then
              remaining = math.max(0, math.floor((tol - (base - now)) / T))
              reset = base - now
              retry = check - now - tol
            else
              local nt = base + cost * T
              newtat[i] = nt
              remaining = math.max(0, math.floor((tol - (nt - now)) / T))
              reset = nt - now
              retry = 0
            end
          end
          if retry > 0 and retry > worst then
            worst = retry
            out[1] = 0
            out[2] = i
          end
          table.insert(out, remaining)
          table.insert(out, reset)
          table.insert(out, retry)
        end
        if out[1] == 0 then return out end
        for i = 1, n do
          redis.call('SET', KEYS[i], string.format('%d', newtat[i]), 'PX', math.floor((newtat[i] - now) / 1000) + 1000)
        end
        for j = 1, m do
          local b = bb + (j - 1) * 5
          local key = KEYS[n + j]
          redis.call('HINCRBY', key, 't', ARGV[b + 3])
          redis.call('HINCRBY', key, 'u', ARGV[b + 4])
          local ttl = tonumber(ARGV[b + 5])
          if ttl > 0 then redis.call('EXPIRE', key, ttl) end
        end
        return out
        """)

    /// KEYS: n token-limit keys, m budget keys, then (when counting usage) 3 usage keys (daily, monthly, total).
    /// ARGV: n, n×(interval, deltaUnits), m, m×(deltaTokens, deltaMicros, ttl|-1),
    ///       count(0|1), keyID or '', promptTokens, completionTokens, costMicros, 3×ttl|-1.
    /// Clock-free: a TAT moves by delta×interval and its expiry moves with it, so settling needs no `now`.
    static let settle = RedisScript(
        """
        local n = tonumber(ARGV[1])
        for i = 1, n do
          local a = 1 + (i - 1) * 2
          local tat = tonumber(redis.call('GET', KEYS[i]))
          if tat then
            local shift = tonumber(ARGV[a + 2]) * tonumber(ARGV[a + 1])
            local nt = math.max(0, tat + shift)
            local pttl = redis.call('PTTL', KEYS[i])
            if pttl < 0 then
              redis.call('SET', KEYS[i], string.format('%d', nt), 'KEEPTTL')
            elseif pttl + math.floor(shift / 1000) > 0 then
              redis.call('SET', KEYS[i], string.format('%d', nt), 'PX', pttl + math.floor(shift / 1000))
            else
              redis.call('DEL', KEYS[i])
            end
          end
        end
        local bb = 2 + 2 * n
        local m = tonumber(ARGV[bb])
        for j = 1, m do
          local b = bb + (j - 1) * 3
          local key = KEYS[n + j]
          if redis.call('HINCRBY', key, 't', ARGV[b + 1]) < 0 then redis.call('HSET', key, 't', 0) end
          if redis.call('HINCRBY', key, 'u', ARGV[b + 2]) < 0 then redis.call('HSET', key, 'u', 0) end
          local ttl = tonumber(ARGV[b + 3])
          if ttl > 0 and redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ttl) end
        end
        local u = bb + 3 * m
        if tonumber(ARGV[u + 1]) == 1 then
          local keyid = ARGV[u + 2]
          local fields = {'requests', 'prompt_tokens', 'completion_tokens', 'cost_micros'}
          local values = {1, ARGV[u + 3], ARGV[u + 4], ARGV[u + 5]}
          for k = 1, 3 do
            local key = KEYS[n + m + k]
            for f = 1, 4 do
              redis.call('HINCRBY', key, fields[f], values[f])
              if keyid ~= '' then redis.call('HINCRBY', key, 'k:' .. keyid .. ':' .. fields[f], values[f]) end
            end
            local ttl = tonumber(ARGV[u + 5 + k])
            if ttl > 0 then redis.call('EXPIRE', key, ttl) end
          end
        end
        return 1
        """)

    /// KEYS: record hash key, id index key, team set, all-keys set. ARGV: json, id, hash. 1 = inserted, 0 = conflict.
    static let insertKey = RedisScript(
        """
        if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'json', ARGV[1])
        redis.call('SET', KEYS[2], ARGV[3])
        redis.call('SADD', KEYS[3], ARGV[2])
        redis.call('SADD', KEYS[4], ARGV[2])
        return 1
        """)

    /// KEYS: id index key. ARGV: record key prefix, revokedAt, channel.
    /// Sets revoked_at once (HSETNX keeps the first), publishes the hash, returns {json, revoked_at} or nil.
    static let revokeKey = RedisScript(
        """
        local hash = redis.call('GET', KEYS[1])
        if not hash then return false end
        local key = ARGV[1] .. hash
        redis.call('HSETNX', key, 'revoked_at', ARGV[2])
        redis.call('PUBLISH', ARGV[3], hash)
        return redis.call('HMGET', key, 'json', 'revoked_at')
        """)

    /// KEYS: id index key. ARGV: record key prefix. Returns {json, revoked_at} or nil.
    static let keyByID = RedisScript(
        """
        local hash = redis.call('GET', KEYS[1])
        if not hash then return false end
        return redis.call('HMGET', ARGV[1] .. hash, 'json', 'revoked_at')
        """)

    /// KEYS: a set of key ids. ARGV: id index prefix, record key prefix. Returns json, revoked_at pairs.
    static let listKeys = RedisScript(
        """
        local out = {}
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local hash = redis.call('GET', ARGV[1] .. id)
          if hash then
            local r = redis.call('HMGET', ARGV[2] .. hash, 'json', 'revoked_at')
            if r[1] then
              table.insert(out, r[1])
              table.insert(out, r[2] or '')
            end
          end
        end
        return out
        """)
}
