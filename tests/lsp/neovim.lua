-- Drives Neovim's built-in LSP client (0.7 and later) against `ripcord lsp`: opens a runbook, waits for the
-- server's diagnostics, writes them to a file one per line ("CODE LINE:COL MESSAGE"), stops the client and
-- quits. Paths come from the environment: RIPCORD_BIN, RUNBOOK_FILE, RESULT_FILE.
local bin = os.getenv("RIPCORD_BIN")
local file = os.getenv("RUNBOOK_FILE")
local out = os.getenv("RESULT_FILE")

vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = "ripcord",
  cmd = { bin, "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":h"),
})
vim.lsp.buf_attach_client(buf, id)

vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)

local lines = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local code = d.code
  if code == nil and d.user_data and d.user_data.lsp then code = d.user_data.lsp.code end
  local message = string.gsub(d.message, "\n", " | ")
  table.insert(lines, string.format("%s %d:%d %s", tostring(code), d.lnum + 1, d.col + 1, message))
end
if #lines == 0 then table.insert(lines, "no diagnostics") end
vim.fn.writefile(lines, out)

local client = vim.lsp.get_client_by_id(id)
if client then
  client.stop()
  vim.wait(5000, function() return client.is_stopped() end, 50)
end
vim.cmd("qa!")
