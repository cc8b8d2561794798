-- wrk script for bench_ack.py: POST pre-signed bodies, each once, threads taking turns.
-- Usage: wrk ... -s bench/wrk_post.lua URL -- BODIES_FILE THREADS
-- BODIES_FILE holds one "signature<TAB>body" line per request.
local counter = 0
local bodies, signatures = {}, {}
local stride = 1
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    signatures[#signatures + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  stride = tonumber(args[2])
end

function request()
  local index = (counter * stride + id) % #bodies + 1
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Typeform-Signature"] = signatures[index]}, bodies[index])
end
