-- wrk script: announces with random peer ids and ports over a pool of info-hashes read from
-- the file named by $HASHES (one 40-character hex info-hash a line; tracker-load.sh writes
-- 1,024 of them and gives opentracker the same list as its whitelist). Half the announces
-- are from seeders (left=0), half from leechers; every reply asks for 50 compact peers.
local hashes = {}

local function escape(hex)
  return (hex:gsub("..", function(b) return "%" .. b end))
end

function setup(thread)
  thread:set("seed", math.random(1, 1e9))
end

function init(args)
  for line in io.lines(os.getenv("HASHES") or "hashes.txt") do
    if #line == 40 then
      hashes[#hashes + 1] = escape(line)
    end
  end
  math.randomseed(seed or os.time())
end

function request()
  local h = hashes[math.random(#hashes)]
  local id = string.format("-WR0001-%06d%06d", math.random(0, 999999), math.random(0, 999999))
  local left = (math.random(0, 1) == 0) and "0" or "1000"
  return wrk.format("GET", "/announce?info_hash=" .. h .. "&peer_id=" .. id ..
    "&port=" .. math.random(1024, 65535) .. "&uploaded=0&downloaded=0&left=" .. left ..
    "&compact=1&numwant=50")
end
