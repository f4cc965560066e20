-- wrk script: MCP tools/call get_quotes for a symbol never asked before,
-- so that every call misses the KV cache and goes the whole way: the
-- worker service, then the mock TastyTrade API (conf/mock/), which makes
-- up a quote for any well-formed symbol.  Symbols are letters only: the
-- thread's letter, then the call's number in base 26.

local token = os.getenv("MCP_TOKEN") or ""
local session = os.getenv("MCP_SESSION") or ""
local version = os.getenv("MCP_PROTOCOL_VERSION") or "2025-11-25"

local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("prefix", string.char(64 + threads))
end

local n = 0

local function letters(i)
    local s = ""
    repeat
        s = string.char(65 + i % 26) .. s
        i = math.floor(i / 26)
    until i == 0
    return s
end

request = function()
    n = n + 1
    local body = '{"jsonrpc":"2.0","id":1,"method":"tools/call",'
                 .. '"params":{"name":"get_quotes","arguments":'
                 .. '{"symbols":["' .. prefix .. letters(n) .. '"]}}}'
    return wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["Accept"] = "application/json, text/event-stream",
        ["Authorization"] = "Bearer " .. token,
        ["Mcp-Session-Id"] = session,
        ["MCP-Protocol-Version"] = version,
    }, body)
end
