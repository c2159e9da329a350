-- wrk script: replay a file of requests in order (wrapping round at its end) and count response statuses.
--
--   wrk -t1 -c4 -d10s --latency -s bench/wrk_replay.lua http://127.0.0.1:PORT -- REQUESTS_FILE
--
-- One request a line, five tab-separated fields: METHOD, PATH (with its query), a header name and value (both may
-- be empty) and a JSON body (may be empty). Prints `status CODE COUNT` for every status seen, `consumed N` (how
-- many requests wrk took from the file) and `wrapped N` (how often it started the file again). Use it with one
-- wrk thread (-t1): the counters are per thread and only the first thread's are printed.

-- Globals, so that done() can read them from the thread with thread:get().
requests = {}
n_requests = 0
issued = 0
counts = {}

function setup(thread)
  if first_thread == nil then
    first_thread = thread
  end
end

function init(args)
  for line in io.lines(args[1]) do
    local method, path, name, value, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    if name ~= "" then
      headers[name] = value
    end
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  n_requests = #requests
  if n_requests == 0 then
    error("no requests in " .. args[1])
  end
end

function request()
  issued = issued + 1
  return requests[(issued - 1) % n_requests + 1]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, reqs)
  for status, n in pairs(first_thread:get("counts")) do
    io.write(string.format("status %d %d\n", status, n))
  end
  local n = first_thread:get("issued")
  io.write(string.format("consumed %d\n", n))
  io.write(string.format("wrapped %d\n", math.floor(math.max(n - 1, 0) / first_thread:get("n_requests"))))
end
