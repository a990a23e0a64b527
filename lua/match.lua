-- match: whole-word phrase matching on folded text, for themes.lua and
-- callouts.lua (require("match")).
--
-- A pattern is one or more words; a text matches when those words follow
-- each other in it (punctuation between them does not count). Case and
-- diacritics do not count either: "Ideeën" matches "ideeen". In a word
--   *  at the end stands for any ending   "specialis*" -> specialisatie,
--                                          specialiseren, specialist
--   *  at the start for any beginning     "*gericht"   -> klantgericht
--   (word) makes the word optional        "ik kan er (ook) niets aan doen"
-- Words are matched whole: "grens" does not match "grensrechter", so
-- inflections are written out or covered with a *.
--
--   local match = require("match")
--   local m = match.compile({ "specialis*", "onsje klant" })
--   local hit = m:find(match.words("Een onsje klant, alstublieft"))
--   -- hit.first, hit.last: bytes 5 to 15; hit.pattern: "onsje klant"
--   hit = m:find("Een onsje klant, alstublieft")  -- the same, quicker
--   local themes = match.themes()  -- site.toml's theme patterns; value: the id

local M = {}

-- The words of s, folded, and the bytes where each starts and ends:
-- { n = 3, w = { "een", ... }, first = { 1, ... }, last = { 3, ... } }
function M.words(s)
  local w, first, last = gen.words(s)
  return { n = #w, w = w, first = first, last = last }
end

-- The matching itself is gen.matcher's, in C: this file keeps the
-- interface and builds the results. Where a method takes `words` (what
-- M.words returns), the text itself will do, and is quicker: its words
-- are then never made into Lua strings.

local Matcher = {}
Matcher.__index = Matcher

-- Compiles a list of patterns; values[i] (optional) comes back with the
-- matches of patterns[i]. At one place in a text, earlier patterns win.
function M.compile(patterns, values)
  local list, vals = {}, {}
  for idx, p in ipairs(patterns) do
    list[idx] = p
    vals[idx] = values and values[idx]
  end
  return setmetatable({ c = gen.matcher(list), patterns = list, values = vals }, Matcher)
end

-- The patterns of every theme in site.toml, in site.themes' order, each
-- with its theme's id as value: as compile would make of them, but made
-- once by gen (gen.theme_matcher) and shared by all articles.
function M.themes()
  local c, patterns, ids = gen.theme_matcher()
  return setmetatable({ c = c, patterns = patterns, values = ids }, Matcher)
end

-- Match x of hits (gen.matcher's list, see matches): i, j, first, last.
local function span(words, hits, x)
  local i, j = hits[x + 1], hits[x + 2]
  if type(words) == "string" then return i, j, hits[x + 3], hits[x + 4] end
  return i, j, words.first[i], words.last[j]
end

local function step(words)
  return type(words) == "string" and 5 or 3
end

-- Calls fn(entry, i, j) for every pattern that matches words i..j, by i,
-- with entry = { pattern = "...", value = ... }; stops when fn returns true.
function Matcher:scan(words, fn)
  local hits = self.c:matches(words)
  for x = 1, #hits, step(words) do
    local k = hits[x]
    if fn({ pattern = self.patterns[k], value = self.values[k] }, hits[x + 1], hits[x + 2]) then
      return
    end
  end
end

local function result(self, words, hits, x)
  local k = hits[x]
  local i, j, first, last = span(words, hits, x)
  return { first = first, last = last, i = i, j = j,
           pattern = self.patterns[k], value = self.values[k] }
end

-- The first match: { first = byte, last = byte, i = word, j = word,
-- pattern = "...", value = ... }, or nil.
function Matcher:find(words)
  local hits = self.c:matches(words, true)
  if hits[1] then return result(self, words, hits, 1) end
  return nil
end

-- Every match in a text (a string, not words), in the order of the
-- text, as an iterator of value, first, last and pattern: what all gives,
-- without a table for each match.
--   for value, first, last in m:each(text) do ... end
function Matcher:each(text)
  local hits, x = self.c:matches(text), 1
  return function()
    local k = hits[x]
    if not k then return nil end
    local first, last = hits[x + 3], hits[x + 4]
    x = x + 5
    return self.values[k], first, last, self.patterns[k]
  end
end

-- Every match, in the order of the text.
function Matcher:all(words)
  local hits, out = self.c:matches(words), {}
  for x = 1, #hits, step(words) do
    out[#out + 1] = result(self, words, hits, x)
  end
  return out
end

return M
