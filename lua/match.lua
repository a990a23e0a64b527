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

local M = {}

-- The words of s, folded, and the bytes where each starts and ends:
-- { n = 3, w = { "een", ... }, first = { 1, ... }, last = { 3, ... } }
function M.words(s)
  local w, first, last = gen.words(s)
  return { n = #w, w = w, first = first, last = last }
end

local function fits(t, w)
  if t.exact then return w == t.w end
  if t.before and t.after then return w:find(t.w, 1, true) ~= nil end
  if t.after then return w:sub(1, #t.w) == t.w end
  return #w >= #t.w and w:sub(-#t.w) == t.w
end

-- The index of the last word of a match of toks[k..] at w[i..], or nil
-- (i - 1 when only optional words are left).
local function match_at(w, i, toks, k)
  local t = toks[k]
  if not t then return i - 1 end
  local word = w[i]
  if word and fits(t, word) then
    local j = match_at(w, i + 1, toks, k + 1)
    if j then return j end
  end
  if t.optional then return match_at(w, i, toks, k + 1) end
  return nil
end

local Matcher = {}
Matcher.__index = Matcher

-- Compiles a list of patterns; values[i] (optional) comes back with the
-- matches of patterns[i]. At one place in a text, earlier patterns win.
function M.compile(patterns, values)
  local m = setmetatable({ exact = {}, prefix = {}, other = {} }, Matcher)
  for idx, p in ipairs(patterns) do
    local toks = {}
    for raw in p:gmatch("%S+") do
      local optional = raw:match("^%((.*)%)$")
      if optional then raw = optional end
      local before = raw:sub(1, 1) == "*"
      if before then raw = raw:sub(2) end
      local after = raw:sub(-1) == "*"
      if after then raw = raw:sub(1, -2) end
      local parts = raw:find("^%w+$") and { raw:lower() } or gen.words(raw)
      for k, part in ipairs(parts) do
        local b, a = before and k == 1, after and k == #parts
        toks[#toks + 1] = { w = part, before = b, after = a, exact = not (a or b),
                            optional = optional ~= nil }
      end
    end
    if #toks > 0 then
      local entry = { pattern = p, value = values and values[idx], toks = toks }
      -- An index on the first word keeps the search linear in the text.
      local first = toks[1]
      local list
      if first.optional or first.before or (first.after and #first.w < 3) then
        list = m.other
      elseif first.exact then
        list = m.exact[first.w] or {}
        m.exact[first.w] = list
      else
        local key = first.w:sub(1, 3)
        list = m.prefix[key] or {}
        m.prefix[key] = list
      end
      list[#list + 1] = entry
    end
  end
  return m
end

local function try(list, w, i, fn)
  for _, entry in ipairs(list) do
    local j = match_at(w, i, entry.toks, 1)
    if j and j >= i and fn(entry, i, j) then return true end
  end
end

-- Calls fn(entry, i, j) for every pattern that matches words i..j, by i;
-- stops when fn returns true.
function Matcher:scan(words, fn)
  local w, exact, prefix, other = words.w, self.exact, self.prefix, self.other
  local use_prefix, use_other = next(prefix) ~= nil, #other > 0
  for i = 1, words.n do
    local word = w[i]
    local list = exact[word]
    if list and try(list, w, i, fn) then return end
    if use_prefix then
      list = prefix[word:sub(1, 3)]
      if list and try(list, w, i, fn) then return end
    end
    if use_other and try(other, w, i, fn) then return end
  end
end

local function result(words, entry, i, j)
  return { first = words.first[i], last = words.last[j], i = i, j = j,
           pattern = entry.pattern, value = entry.value }
end

-- The first match: { first = byte, last = byte, i = word, j = word,
-- pattern = "...", value = ... }, or nil.
function Matcher:find(words)
  local hit
  self:scan(words, function(entry, i, j)
    hit = result(words, entry, i, j)
    return true
  end)
  return hit
end

-- Every match, in the order of the text.
function Matcher:all(words)
  local hits = {}
  self:scan(words, function(entry, i, j)
    hits[#hits + 1] = result(words, entry, i, j)
  end)
  return hits
end

return M
