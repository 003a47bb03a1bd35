-- wrk script of `make bench` (bench/wrk.py writes its arguments): the requests come from a file of raw HTTP
-- requests ("<bytes>\n<request>" each), thread k of n sends requests k, k+n, k+2n…; every status is counted;
-- with a rate, each thread spaces its requests on a schedule (open loop while a connection is free); at the
-- end one line of JSON on stdout, after the line "VMRE-WRK".
--   wrk … -s bench/wrk.lua URL -- <requests file> <requests/s of all threads, 0 = closed loop>
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } vmre_timespec;
  int clock_gettime(int clk_id, vmre_timespec *tp);
]]
local reloj = ffi.new("vmre_timespec")
local function ahora()
  ffi.C.clock_gettime(1, reloj) -- CLOCK_MONOTONIC
  return tonumber(reloj.tv_sec) + tonumber(reloj.tv_nsec) / 1e9
end

local hilos = {}
local contador = 0

function setup(thread)
  contador = contador + 1
  thread:set("hilo", contador)
  table.insert(hilos, thread)
end

peticiones = {}
estados = {}
vueltas = 0 -- times this thread ran out of requests and started again from its first
local siguiente_i, paso, intervalo, siguiente_t

function init(args)
  local f = assert(io.open(args[1], "rb"))
  while true do
    local cabeza = f:read("*l")
    if not cabeza then break end
    peticiones[#peticiones + 1] = f:read(tonumber(cabeza))
    f:read(1) -- the newline after each request
  end
  f:close()
  assert(#peticiones > 0, "sin peticiones en " .. args[1])
  paso = tonumber(args[3])
  siguiente_i = hilo
  local ritmo = tonumber(args[2])
  if ritmo > 0 then
    intervalo = paso / ritmo
  end
end

function request()
  local p = peticiones[siguiente_i]
  siguiente_i = siguiente_i + paso
  if siguiente_i > #peticiones then
    siguiente_i = hilo
    vueltas = vueltas + 1
  end
  return p
end

-- Always defined (wrk decides before init whether to call it): 0 in a closed loop.
function delay()
  if not intervalo then return 0 end
  local t = ahora()
  if not siguiente_t or siguiente_t < t - 1 then siguiente_t = t end
  siguiente_t = siguiente_t + intervalo
  local d = (siguiente_t - t) * 1000
  if d < 0 then return 0 end
  return d
end

function response(status, headers, body)
  estados[status] = (estados[status] or 0) + 1
end

function done(summary, latency, requests)
  local todos, total_vueltas = {}, 0
  for _, t in ipairs(hilos) do
    for codigo, n in pairs(t:get("estados")) do
      todos[codigo] = (todos[codigo] or 0) + n
    end
    total_vueltas = total_vueltas + t:get("vueltas")
  end
  local partes = {}
  for codigo, n in pairs(todos) do
    partes[#partes + 1] = string.format('"%d": %d', codigo, n)
  end
  local e = summary.errors
  io.write("VMRE-WRK\n")
  io.write(string.format(
    '{"peticiones": %d, "duracion_us": %d, "bytes": %d, "vueltas": %d, "estados": {%s}, ' ..
    '"errores": {"conexion": %d, "lectura": %d, "escritura": %d, "tiempo": %d}, ' ..
    '"latencia_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "media": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes, total_vueltas, table.concat(partes, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
