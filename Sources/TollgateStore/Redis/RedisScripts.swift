/// The Lua scripts that make admission and settlement atomic in Redis.
///
/// `admit` is a port of `AdmissionEvaluator` + `GCRA.evaluate` (TollgateCore/Limits): budgets are
/// checked first, then every GCRA rule; nothing is written unless all pass. All times are integer
/// microseconds (Lua numbers are doubles, exact to 2^53), so results match the Swift math.
///
/// Both scripts run on every request, so they are written for few Redis calls (each costs about a
/// microsecond of Redis CPU, more than the Lua around it): one hash per team holds all its rate-limit
/// TATs, read with one HMGET and written with one HSET; counters are read with HMGET and written back
/// with HSET instead of one HINCRBY per field; and the numbers come packed as doubles in ARGV[1]
/// (`RESPWriter.append(packed:)`, read with `struct.unpack`), so the script parses no decimal strings.
///
/// The TAT hash carries a field `~exp`: a time (script clock, µs) past every TAT in the hash plus a
/// second, matching the hash's TTL. A write that would pass it moves it (and the TTL) 61 s further,
/// so the PEXPIRE runs about once a minute per team, not per request. Expiry is only garbage
/// collection: a TAT in the past and an absent one both mean a full bucket.
enum RedisScripts {
    /// KEYS: the team's TAT hash, then m budget hashes.
    /// ARGV[1] packed: now (-1 = Redis TIME), n, m, lease, m×(tokenLimit|-1, microsLimit|-1, reserveTokens,
    ///   reserveMicros, ttlSeconds|-1), n×(interval, limit, cost, tolerance). ARGV[2…n+1]: the rules' TAT fields.
    /// Returns {status(1 ok, 0 rate, 2 budget), index, dimension(1 tokens, 2 usd), now, n×(remaining, reset, retry)};
    /// when admitted, index is how many requests' worth were admitted: `lease` when every limit and
    /// budget keeps at least half of its capacity after that many (`AdmissionEvaluator.leaseFits`), else 1.
    /// Loaded on every new connection before anything else is sent on it, so a script call never
    /// meets NOSCRIPT in normal operation (the EVAL fallback then only covers a SCRIPT FLUSH). That
    /// keeps a started settle in order with the admissions after it even on Redis' first use.
    static var all: [RedisScript] { [admit, settle, insertKey, revokeKey, keyByID, listKeys] }

    static let admit = RedisScript(
        """
        local number, fmt, floor = struct.unpack, string.format, math.floor
        local packed = ARGV[1]
        local now, n, m, lease, at = number('<dddd', packed)
        if now < 0 then
          local t = redis.call('TIME')
          now = t[1] * 1000000 + t[2]
        end
        local budgets = {}
        for j = 1, m do
          local tl, ul, rt, ru, ttl
          tl, ul, rt, ru, ttl, at = number('<ddddd', packed, at)
          local cur = redis.call('HMGET', KEYS[1 + j], 't', 'u')
          local ct = tonumber(cur[1]) or 0
          local cu = tonumber(cur[2]) or 0
          if tl >= 0 and ct >= tl then return {2, j, 1, now} end
          if ul >= 0 and cu >= ul then return {2, j, 2, now} end
          if lease > 1 and ((tl >= 0 and 2 * (ct + lease * rt) > tl) or (ul >= 0 and 2 * (cu + lease * ru) > ul)) then lease = 1 end
          budgets[j] = {ct, cu, rt, ru, ttl > 0 and not cur[1] and ttl}
        end
        local out = {1, 1, 0, now}
        if n > 0 then
          local tats = redis.call('HMGET', KEYS[1], '~exp', unpack(ARGV, 2, n + 1))
          local rules = {}
          for i = 1, n do
            local T, limit, cost, tol
            T, limit, cost, tol, at = number('<dddd', packed, at)
            local base = tonumber(tats[i + 1]) or 0
            if base < now then base = now end
            if lease > 1 and (limit <= 0 or 2 * (base + lease * cost * T - now) > tol) then lease = 1 end
            rules[i] = {T, limit, cost, tol, base}
          end
          local writes = {}
          local latest = 0
          local worst = 0
          for i = 1, n do
            local T, limit, tol, base = rules[i][1], rules[i][2], rules[i][4], rules[i][5]
            local cost = rules[i][3] * lease
            local remaining, reset, retry
            if limit <= 0 then
              remaining, reset, retry = 0, T, T
            else
              local check = base + (cost < limit and cost or limit) * T
              if check - now > tol then
                remaining = floor((tol - (base - now)) / T)
                reset = base - now
                retry = check - now - tol
              else
                local tat = base + cost * T
                writes[#writes + 1] = ARGV[i + 1]
                writes[#writes + 1] = fmt('%d', tat)
                if tat > latest then latest = tat end
                remaining = floor((tol - (tat - now)) / T)
                reset = tat - now
                retry = 0
              end
              if remaining < 0 then remaining = 0 end
            end
            if retry > worst then
              worst = retry
              out[1] = 0
              out[2] = i
            end
            out[3 * i + 2] = remaining
            out[3 * i + 3] = reset
            out[3 * i + 4] = retry
          end
          if out[1] == 0 then return out end
          local expires = tonumber(tats[1])
          if expires and latest + 1000000 <= expires then
            redis.call('HSET', KEYS[1], unpack(writes))
          else
            expires = latest + 61000000
            writes[#writes + 1] = '~exp'
            writes[#writes + 1] = fmt('%d', expires)
            redis.call('HSET', KEYS[1], unpack(writes))
            redis.call('PEXPIRE', KEYS[1], floor((expires - now) / 1000))
          end
        end
        out[2] = lease
        for j = 1, m do
          local b = budgets[j]
          redis.call('HSET', KEYS[1 + j], 't', fmt('%d', b[1] + lease * b[3]), 'u', fmt('%d', b[2] + lease * b[4]))
          if b[5] then redis.call('EXPIRE', KEYS[1 + j], b[5]) end
        end
        return out
        """)

    /// KEYS: the team's TAT hash, m budget hashes, then (when counting usage) 3 usage hashes (daily, monthly, total).
    /// ARGV[1] packed: n, m, count(0|1), n×(interval, deltaUnits), m×(deltaTokens, deltaMicros, ttl|-1),
    ///   and when counting: promptTokens, completionTokens, costMicros, 3×ttl|-1.
    /// ARGV[2…n+1]: the token rules' TAT fields; ARGV[n+2]: key id or ''.
    /// Clock-free: a TAT moves by delta×interval; when that passes `~exp`, the TTL moves by the same amount.
    /// A budget or usage hash gets its TTL when this call creates it (period retention counts from the start).
    /// Usage is one field per hash for the team (`n`) and one per key (`k:<id>`), each the four counters
    /// (requests, prompt tokens, completion tokens, micro-USD) packed as little-endian doubles
    /// (`PackedUsage`): two fields read and written instead of eight decimal ones.
    static let settle = RedisScript(
        """
        local number, fmt, floor = struct.unpack, string.format, math.floor
        local packed = ARGV[1]
        local n, m, count, at = number('<ddd', packed)
        if n > 0 then
          local tats = redis.call('HMGET', KEYS[1], '~exp', unpack(ARGV, 2, n + 1))
          local writes = {}
          local latest = 0
          for i = 1, n do
            local T, delta
            T, delta, at = number('<dd', packed, at)
            local tat = tonumber(tats[i + 1])
            if tat and delta ~= 0 then
              tat = tat + delta * T
              if tat < 0 then tat = 0 end
              writes[#writes + 1] = ARGV[i + 1]
              writes[#writes + 1] = fmt('%d', tat)
              if tat > latest then latest = tat end
            end
          end
          if #writes > 0 then
            local expires = tonumber(tats[1])
            if expires and latest + 1000000 > expires then
              local later = latest + 61000000
              local pttl = redis.call('PTTL', KEYS[1])
              writes[#writes + 1] = '~exp'
              writes[#writes + 1] = fmt('%d', later)
              redis.call('HSET', KEYS[1], unpack(writes))
              if pttl > 0 then redis.call('PEXPIRE', KEYS[1], pttl + floor((later - expires) / 1000)) end
            else
              redis.call('HSET', KEYS[1], unpack(writes))
            end
          end
        end
        for j = 1, m do
          local dt, du, ttl
          dt, du, ttl, at = number('<ddd', packed, at)
          if dt ~= 0 or du ~= 0 then
            local key = KEYS[1 + j]
            local cur = redis.call('HMGET', key, 't', 'u')
            local t = (tonumber(cur[1]) or 0) + dt
            local u = (tonumber(cur[2]) or 0) + du
            redis.call('HSET', key, 't', fmt('%d', t > 0 and t or 0), 'u', fmt('%d', u > 0 and u or 0))
            if ttl > 0 and not cur[1] then redis.call('EXPIRE', key, ttl) end
          end
        end
        if count == 1 then
          local p, c, cost
          p, c, cost, at = number('<ddd', packed, at)
          local keyid = ARGV[n + 2]
          local fields = {'n'}
          if keyid ~= '' then fields[2] = 'k:' .. keyid end
          for k = 1, 3 do
            local ttl
            ttl, at = number('<d', packed, at)
            local key = KEYS[m + 1 + k]
            local cur = redis.call('HMGET', key, unpack(fields))
            local writes = {}
            for f = 1, #fields do
              local r, pt, ct, co = 0, 0, 0, 0
              if cur[f] then r, pt, ct, co = number('<dddd', cur[f]) end
              writes[2 * f - 1] = fields[f]
              writes[2 * f] = struct.pack('<dddd', r + 1, pt + p, ct + c, co + cost)
            end
            redis.call('HSET', key, unpack(writes))
            if ttl > 0 and not cur[1] then redis.call('EXPIRE', key, ttl) end
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
