-- themes: tags every story and tip list with the handbook's themes, and
-- marks the passage that earned each one.
--
-- The rules are data: each [themes.ID] in site.toml has `patterns`, the
-- phrases that show the theme (see lua/match.lua for how they are written).
-- A paragraph, heading or table row that holds one earns its theme; the
-- reader sees the theme on the article with a link to that passage, and the
-- theme page quotes it. Themes set by hand in front matter (`themes = [...]`)
-- always count, with or without a passage.
--
-- Plain pages (the introduction, "over") are left alone: they talk about
-- the themes rather than show them.

if doc.kind == "page" then
  return {}
end

local match = require("match")

-- Passages per theme and article: enough to show why, not every mention.
local MAX_PER_THEME = 3

-- One matcher for all themes: each pattern knows its theme.
local matcher = match.themes()

local found = {}

local function look(node)
  local text = node:text()
  if text == "" then return end
  local here = {}
  for id, first, last in matcher:each(text) do
    local n = found[id] or 0
    if not here[id] and n < MAX_PER_THEME then
      doc:tag(id, node, text:sub(first, last))
      here[id] = true
      found[id] = n + 1
    end
  end
end

return {
  Paragraph = look,
  Heading = look,
  TableRow = look,
}
