-- callouts: marks the "killer phrases" the stories quote, the sentences
-- that end a conversation with a customer ("ik kan er niets aan doen").
--
-- A block quote that holds one becomes a callout (class "callout
-- callout-killer"); elsewhere the phrase itself is wrapped in
-- <span class="killer-phrase">. The theme's stylesheet gives both their
-- look. The phrases are written as in lua/match.lua.

local match = require("match")

local PHRASES = {
  "ik kan er (ook) niets aan doen",
  "ik kan daar (ook) niets aan doen",
  "staat niet in (mijn) functieomschrijving",
  "ik denk dat ik u niet kan helpen",
  "het ligt niet aan ons",
  "dit is mijn probleem niet",
  "dat is mijn afdeling niet",
  "daar ga ik niet over",
  "daar gaat de werkplaats over",
  "dat is (nu) eenmaal (zo) beleid",
}

local phrases = match.compile(PHRASES)

local function add_class(node, class)
  if node.class == "" then
    node.class = class
  elseif not (" " .. node.class .. " "):find(" " .. class .. " ", 1, true) then
    node.class = node.class .. " " .. class
  end
end

-- Whether node sits in a block quote, which is marked whole.
local function in_quote(node)
  local p = node.parent
  while p do
    if p.type == "BlockQuote" then return true end
    p = p.parent
  end
  return false
end

-- Splits the Text nodes of a paragraph around the phrases they hold.
local function wrap_phrases(text)
  local s = text.literal
  local out, pos = {}, 1
  while pos <= #s do
    local rest = s:sub(pos)
    local m = phrases:find(rest)
    if not m then break end
    if m.first > 1 then out[#out + 1] = gen.Text(rest:sub(1, m.first - 1)) end
    out[#out + 1] = gen.Span(rest:sub(m.first, m.last), { class = "killer-phrase" })
    pos = pos + m.last
  end
  if #out == 0 then return nil end
  if pos <= #s then out[#out + 1] = gen.Text(s:sub(pos)) end
  return out
end

return {
  BlockQuote = function(quote)
    if phrases:find(quote:text()) then
      add_class(quote, "callout callout-killer")
    end
  end,

  -- Most paragraphs hold no phrase: look at the whole first, and at its
  -- Text nodes only when it does. A phrase split by emphasis is missed.
  -- Whether it sits in a quote is asked only then: the words of the
  -- text are at hand already (themes.lua made them), its ancestors not.
  Paragraph = function(para)
    if not phrases:find(para:text()) or in_quote(para) then
      return nil
    end
    local content, changed = {}, false
    for _, child in ipairs(para.content) do
      local parts = child.type == "Text" and wrap_phrases(child)
      if parts then
        changed = true
        for _, part in ipairs(parts) do content[#content + 1] = part end
      else
        content[#content + 1] = child
      end
    end
    if changed then para.content = content end
  end,
}
