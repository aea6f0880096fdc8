// HTML to text: see html_text.h for the contract.
#include "model/html_text.h"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <vector>

#include "model/charset.h"
#include "model/mail_flags.h"

namespace sf::mail {
namespace {

constexpr size_t kEndTagSearch = 64;  // open elements an end tag may close (estimator)
constexpr size_t kMetaWindow = 4096;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == ':' || c == '_';
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), name) != set.end();
}

// HTML tree-builder categories (WHATWG "parsing HTML documents") that decide how deep the
// stack of open elements grows.
bool is_void(std::string_view n) {
  return one_of(n, {"area",   "base",  "br",       "col",     "embed",  "hr",     "img",
                    "input",  "link",  "meta",     "param",   "source", "track",  "wbr",
                    "keygen", "frame", "basefont", "bgsound", "image",  "isindex"});
}

bool is_formatting(std::string_view n) {
  return one_of(n, {"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike",
                    "strong", "tt", "u"});
}

bool is_special(std::string_view n) {
  return one_of(n, {"address",
                    "applet",
                    "area",
                    "article",
                    "aside",
                    "base",
                    "basefont",
                    "bgsound",
                    "blockquote",
                    "body",
                    "br",
                    "button",
                    "caption",
                    "center",
                    "col",
                    "colgroup",
                    "dd",
                    "details",
                    "dir",
                    "div",
                    "dl",
                    "dt",
                    "embed",
                    "fieldset",
                    "figcaption",
                    "figure",
                    "footer",
                    "form",
                    "frame",
                    "frameset",
                    "h1",
                    "h2",
                    "h3",
                    "h4",
                    "h5",
                    "h6",
                    "head",
                    "header",
                    "hgroup",
                    "hr",
                    "html",
                    "iframe",
                    "img",
                    "input",
                    "isindex",
                    "keygen",
                    "li",
                    "link",
                    "listing",
                    "main",
                    "marquee",
                    "menu",
                    "meta",
                    "nav",
                    "noembed",
                    "noframes",
                    "noscript",
                    "object",
                    "ol",
                    "p",
                    "param",
                    "plaintext",
                    "pre",
                    "script",
                    "section",
                    "select",
                    "source",
                    "style",
                    "summary",
                    "table",
                    "tbody",
                    "td",
                    "template",
                    "textarea",
                    "tfoot",
                    "th",
                    "thead",
                    "title",
                    "tr",
                    "track",
                    "ul",
                    "wbr",
                    "xmp",
                    "mi",
                    "mo",
                    "mn",
                    "ms",
                    "mtext",
                    "annotation-xml",
                    "foreignobject",
                    "desc"});
}

bool is_scope_boundary(std::string_view n) {
  return one_of(
      n, {"applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "mi",
          "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc", "button"});
}

bool closes_p(std::string_view n) {
  return one_of(
      n,
      {"address", "article",  "aside",      "blockquote", "center",  "details", "dir",     "div",
       "dl",      "fieldset", "figcaption", "figure",     "footer",  "header",  "hgroup",  "main",
       "menu",    "nav",      "ol",         "p",          "section", "summary", "ul",      "h1",
       "h2",      "h3",       "h4",         "h5",         "h6",      "pre",     "listing", "form",
       "table",   "hr",       "xmp",        "plaintext",  "li",      "dd",      "dt"});
}

// Elements whose end tag pops everything above them when they are in scope (others use the
// builder's "any other end tag" steps, which stop at any special element).
bool ends_in_scope(std::string_view n) {
  return one_of(n,
                {"address", "article", "aside",   "blockquote", "button",     "center",  "details",
                 "dir",     "div",     "dl",      "fieldset",   "figcaption", "figure",  "footer",
                 "header",  "hgroup",  "listing", "main",       "menu",       "nav",     "ol",
                 "pre",     "section", "summary", "ul",         "p",          "dd",      "dt",
                 "applet",  "marquee", "object",  "table",      "tbody",      "thead",   "tfoot",
                 "tr",      "td",      "th",      "caption",    "colgroup",   "template"});
}

// Elements whose start tag closes an open element of the same family.
int family(std::string_view n) {
  if (n == "li") return 1;
  if (n == "dd" || n == "dt") return 2;
  if (n == "option" || n == "optgroup") return 3;
  if (n == "td" || n == "th") return 4;
  if (n == "tr") return 5;
  if (n == "tbody" || n == "thead" || n == "tfoot") return 6;
  if (n == "rb" || n == "rt" || n == "rp" || n == "rtc") return 7;
  if (n == "caption" || n == "colgroup") return 8;
  return 0;
}

bool raw_text(std::string_view name) {
  // Not "noscript": gumbo parses without scripting, so its content is markup.
  return one_of(name,
                {"script", "style", "textarea", "title", "xmp", "noembed", "noframes", "iframe"});
}

// Position of "</name" (ASCII case-insensitive) at or after `from`; npos if none.
size_t find_end_tag(std::string_view html, std::string_view name, size_t from) {
  size_t i = from;
  while ((i = html.find("</", i)) != std::string_view::npos) {
    size_t k = 0;
    while (k < name.size() && i + 2 + k < html.size() && lower(html[i + 2 + k]) == name[k]) ++k;
    if (k == name.size()) return i;
    i += 2;
  }
  return std::string_view::npos;
}

// A light model of the tree builder's stack of open elements and of its list of active
// formatting elements (which it re-opens after a block closes them: "<p><b>x</p>y" reopens
// <b>). depth() bounds the real stack from above; it errs on the deep side: an end tag
// closes something only where the real builder surely closes it too.
class ShadowStack {
 public:
  size_t depth() const { return open_.size() + formatting_; }

  // The start tag `n` arrives; returns false (and changes nothing) if it would push the depth
  // to `limit`. Tags the builder ignores are ignored here too, so that their end tags cannot
  // pop elements the builder keeps.
  bool start(const std::string& n, size_t limit) {
    if (n == "html" || n == "head" || n == "body" || n == "frameset" || is_void(n)) return true;
    if (in_select()) {  // only option, optgroup and select mean anything inside a select
      if (n == "select") {
        pop_to("select", {});
      } else if (n == "option" || n == "optgroup") {
        if (!open_.empty() && (open_.back() == "option" || open_.back() == "optgroup")) {
          open_.pop_back();
        }
        if (depth() + 1 >= limit) return false;
        open_.push_back(n);
      }
      return true;
    }
    if (family(n) >= 4 && family(n) != 7 && !contains("table")) return true;  // no table
    if (n == "form" && contains("form")) return true;  // nested forms are ignored
    if (depth() + 1 >= limit) return false;
    if (closes_p(n)) pop_to("p", {"button"});
    if (const int f = family(n); f == 3) {  // option, optgroup: close an option on top only
      if (!open_.empty() && open_.back() == "option") open_.pop_back();
    } else if (f == 7) {  // ruby texts: implied end tags, only inside a <ruby>
      if (contains("ruby")) {
        while (!open_.empty() && family(open_.back()) == 7) open_.pop_back();
      }
    } else if (f != 0) {
      for (size_t k = 0; k < open_.size() && k < kEndTagSearch; ++k) {
        const std::string& e = open_[open_.size() - 1 - k];
        if (family(e) == f) {
          open_.resize(open_.size() - 1 - k);
          break;
        }
        if (f <= 2 ? (is_special(e) && e != "address" && e != "div" && e != "p")
                   : e == "table" || e == "select" || e == "template") {
          break;
        }
      }
    }
    if ((n == "a" || n == "nobr") && close_formatting(n)) --formatting_;  // a new <a> closes one
    open_.push_back(n);
    if (is_formatting(n)) ++formatting_;
    return true;
  }

  void end(const std::string& n) {
    if (n == "html" || n == "head" || n == "body" || n == "br") return;
    if (in_select()) {
      if (n == "select") {
        pop_to("select", {});
      } else if ((n == "option" || n == "optgroup") && !open_.empty() && open_.back() == n) {
        open_.pop_back();
      }
      return;
    }
    if (is_formatting(n)) {
      if (close_formatting(n) && formatting_ > 0) --formatting_;
    } else if (n == "form") {
      erase_recent("form");  // removes the form element only
    } else if (n == "li") {
      pop_to("li", {"ol", "ul"});
    } else if (n.size() == 2 && n[0] == 'h' && n[1] >= '1' && n[1] <= '6') {
      for (size_t k = 0; k < open_.size() && k < kEndTagSearch; ++k) {
        const std::string& e = open_[open_.size() - 1 - k];
        if (e.size() == 2 && e[0] == 'h' && e[1] >= '1' && e[1] <= '6') {
          open_.resize(open_.size() - 1 - k);
          return;
        }
        if (is_scope_boundary(e)) return;
      }
    } else if (ends_in_scope(n)) {
      pop_to(n, {});
    } else {
      for (size_t k = 0; k < open_.size() && k < kEndTagSearch; ++k) {
        const std::string& e = open_[open_.size() - 1 - k];
        if (e == n) {
          open_.resize(open_.size() - 1 - k);
          return;
        }
        if (is_special(e)) return;  // the builder ignores this end tag
      }
    }
  }

 private:
  bool contains(std::string_view n) const {
    return std::find(open_.begin(), open_.end(), n) != open_.end();
  }
  bool in_select() const {
    for (size_t k = 0; k < open_.size() && k < 3; ++k) {
      if (open_[open_.size() - 1 - k] == "select") return true;
    }
    return false;
  }
  // Pops up to and including the nearest `n` if it is in scope (scope boundaries plus `extra`).
  void pop_to(std::string_view n, std::initializer_list<std::string_view> extra) {
    for (size_t k = 0; k < open_.size() && k < kEndTagSearch; ++k) {
      const std::string& e = open_[open_.size() - 1 - k];
      if (e == n) {
        open_.resize(open_.size() - 1 - k);
        return;
      }
      if (is_scope_boundary(e) || one_of(e, extra)) return;
    }
  }
  // Adoption agency, roughly: with no special element above the nearest `n`, it and everything
  // above it close (true); otherwise a clone replaces it and the depth stays (false).
  bool close_formatting(std::string_view n) {
    for (size_t k = 0; k < open_.size() && k < kEndTagSearch; ++k) {
      const std::string& e = open_[open_.size() - 1 - k];
      if (e == n) {
        open_.resize(open_.size() - 1 - k);
        return true;
      }
      if (is_special(e)) return false;
    }
    return false;
  }
  void erase_recent(std::string_view n) {
    for (size_t k = 0; k < open_.size() && k < kEndTagSearch; ++k) {
      if (open_[open_.size() - 1 - k] == n) {
        open_.erase(open_.end() - 1 - static_cast<std::ptrdiff_t>(k));
        return;
      }
    }
  }
  std::vector<std::string> open_;
  size_t formatting_ = 0;  // formatting elements the builder may still re-open
};

// Copies `html` without the start tags that would nest deeper than kMaxHtmlDepth (see
// ShadowStack). Returns false (and leaves `out` empty) when nothing had to be removed.
bool flatten_html(std::string_view html, std::string& out) {
  ShadowStack stack;
  size_t copied = 0;
  size_t i = 0;
  bool changed = false;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    if (html.compare(i, 4, "<!--") == 0) {
      const size_t e = html.find("-->", i + 4);
      i = e == std::string_view::npos ? html.size() : e + 3;
      continue;
    }
    const bool end = i + 1 < html.size() && html[i + 1] == '/';
    const size_t name_start = i + 1 + (end ? 1 : 0);
    size_t name_end = name_start;
    while (name_end < html.size() && is_name_char(html[name_end])) ++name_end;
    if (name_end == name_start) {  // "<!doctype", "<?xml", or a literal '<'
      ++i;
      continue;
    }
    size_t tag_end = html.find('>', name_end);
    tag_end = tag_end == std::string_view::npos ? html.size() : tag_end + 1;
    std::string name;
    for (size_t k = name_start; k < name_end && name.size() < 32; ++k) {
      name.push_back(lower(html[k]));
    }
    if (end) {
      stack.end(name);
      i = tag_end;
      continue;
    }
    if (name == "plaintext") break;
    if (raw_text(name)) {
      const size_t e = find_end_tag(html, name, tag_end);
      i = e == std::string_view::npos ? html.size() : e;
      continue;
    }
    if (!stack.start(name, kMaxHtmlDepth)) {
      out.append(html.substr(copied, i - copied));
      copied = tag_end;
      changed = true;
    }
    i = tag_end;
  }
  if (!changed) return false;
  out.append(html.substr(copied));
  return true;
}

// Streams text into `out` with whitespace collapsed and line breaks kept (one blank line max).
class Emitter {
 public:
  explicit Emitter(size_t max_out) : max_out_(max_out) {}
  bool full() const { return full_; }
  void space() { space_ = true; }
  void line_break(int n = 1) { newlines_ = std::max(newlines_, n); }
  void add_break() { ++newlines_; }
  void text(std::string_view s) {
    size_t i = 0;
    while (i < s.size() && !full_) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c <= 0x20 || c == 0x7F) {  // blanks, line breaks and controls
        space_ = true;
        ++i;
        continue;
      }
      if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
        space_ = true;  // &nbsp;
        i += 2;
        continue;
      }
      size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      n = std::min(n, s.size() - i);
      separate();
      out_.append(s.substr(i, n));
      i += n;
      if (out_.size() >= max_out_) full_ = true;
    }
  }
  std::string take() {
    if (out_.size() > max_out_) out_.resize(utf8_cut(out_, max_out_));
    return std::move(out_);
  }

 private:
  void separate() {
    if (!out_.empty()) {
      if (newlines_ >= 2) {
        out_.append("\n\n");
      } else if (newlines_ == 1) {
        out_.push_back('\n');
      } else if (space_) {
        out_.push_back(' ');
      }
    }
    newlines_ = 0;
    space_ = false;
  }
  std::string out_;
  size_t max_out_;
  bool space_ = false;
  int newlines_ = 0;
  bool full_ = false;
};

bool is_block(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIR:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_P:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_LEGEND:
    case GUMBO_TAG_TEXTAREA:
      return true;
    default:
      return false;
  }
}

bool is_skipped(GumboTag t) {
  return t == GUMBO_TAG_SCRIPT || t == GUMBO_TAG_STYLE || t == GUMBO_TAG_HEAD ||
         t == GUMBO_TAG_TITLE || t == GUMBO_TAG_TEMPLATE;
}

const char* attribute(const GumboElement& e, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&e.attributes, name);
  return a == nullptr ? nullptr : a->value;
}

const GumboVector* children_of(const GumboNode* node) {
  if (node->type == GUMBO_NODE_DOCUMENT) return &node->v.document.children;
  if (node->type == GUMBO_NODE_ELEMENT) return &node->v.element.children;
  return nullptr;
}

void enter(const GumboNode* node, Emitter& em) {
  const GumboElement& e = node->v.element;
  if (is_block(e.tag)) em.line_break();
  switch (e.tag) {
    case GUMBO_TAG_BR:
      em.add_break();
      break;
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
      em.space();
      break;
    case GUMBO_TAG_IMG:
      if (const char* alt = attribute(e, "alt"); alt != nullptr) {
        em.space();
        em.text(alt);
        em.space();
      }
      break;
    default:
      break;
  }
}

void leave(const GumboNode* node, Emitter& em) {
  const GumboElement& e = node->v.element;
  if (is_block(e.tag)) em.line_break();
  if (e.tag == GUMBO_TAG_TD || e.tag == GUMBO_TAG_TH) em.space();
  if (e.tag == GUMBO_TAG_A || e.tag == GUMBO_TAG_IFRAME) {
    const char* href = attribute(e, e.tag == GUMBO_TAG_A ? "href" : "src");
    if (href != nullptr) {
      const std::string host = url_host(href);
      if (!host.empty()) {
        em.space();
        em.text("[" + host + "]");
        em.space();
      }
    }
  }
}

void render(const GumboNode* root, Emitter& em) {
  struct Frame {
    const GumboNode* node;
    unsigned next;
  };
  std::vector<Frame> stack;
  stack.push_back({root, 0});
  while (!stack.empty() && !em.full()) {
    Frame& top = stack.back();
    const GumboVector* kids = children_of(top.node);
    if (kids == nullptr || top.next >= kids->length) {
      if (top.node->type == GUMBO_NODE_ELEMENT) leave(top.node, em);
      stack.pop_back();
      continue;
    }
    const auto* child = static_cast<const GumboNode*>(kids->data[top.next++]);
    switch (child->type) {
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_CDATA:
      case GUMBO_NODE_WHITESPACE:
        em.text(child->v.text.text);
        break;
      case GUMBO_NODE_ELEMENT:
        if (!is_skipped(child->v.element.tag)) {
          enter(child, em);
          stack.push_back({child, 0});
        }
        break;
      default:  // comments, templates, documents
        break;
    }
  }
}

}  // namespace

std::string url_host(std::string_view href) {
  while (!href.empty() && static_cast<unsigned char>(href.front()) <= 0x20) href.remove_prefix(1);
  while (!href.empty() && static_cast<unsigned char>(href.back()) <= 0x20) href.remove_suffix(1);
  std::string head;
  for (size_t i = 0; i < href.size() && i < 8; ++i) head.push_back(lower(href[i]));
  std::string_view host;
  if (head.rfind("mailto:", 0) == 0) {
    std::string_view addr = href.substr(7);
    addr = addr.substr(0, addr.find_first_of("?,;"));
    const size_t at = addr.rfind('@');
    if (at == std::string_view::npos) return "";
    host = addr.substr(at + 1);
  } else {
    size_t p = 0;
    if (href.substr(0, 2) != "//" && href.substr(0, 2) != "\\\\") {
      while (p < href.size() && ((lower(href[p]) >= 'a' && lower(href[p]) <= 'z') ||
                                 (p > 0 && (href[p] == '+' || href[p] == '-' || href[p] == '.' ||
                                            (href[p] >= '0' && href[p] <= '9'))))) {
        ++p;
      }
      if (p == 0 || p >= href.size() || href[p] != ':') return "";  // relative, or no scheme
      ++p;
    }
    const size_t slashes = p;
    while (p < href.size() && (href[p] == '/' || href[p] == '\\')) ++p;
    if (p - slashes < 2 && !(p - slashes == 1 && (head.rfind("http", 0) == 0))) return "";
    std::string_view authority = href.substr(p);
    authority = authority.substr(0, authority.find_first_of("/?#\\"));
    const size_t at = authority.rfind('@');
    if (at != std::string_view::npos) authority = authority.substr(at + 1);
    if (!authority.empty() && authority.front() == '[') {
      const size_t close = authority.find(']');
      host = authority.substr(0, close == std::string_view::npos ? close : close + 1);
    } else {
      host = authority.substr(0, authority.find(':'));
    }
  }
  // Percent-decode and lower-case; refuse anything that cannot be a host name.
  std::string out;
  for (size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    if (c == '%') {
      const auto hex = [](char h) {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      if (i + 2 < host.size() && hex(host[i + 1]) >= 0 && hex(host[i + 2]) >= 0) {
        c = static_cast<char>(hex(host[i + 1]) * 16 + hex(host[i + 2]));
        i += 2;
      }
    }
    c = lower(c);
    const auto u = static_cast<unsigned char>(c);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    c == '_' || c == '[' || c == ']' || c == ':' || u >= 0x80;
    if (!ok) return "";
    out.push_back(c);
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
  if (!utf8_valid(out)) {
    std::string clean;
    utf8_append_sanitized(clean, out);
    out = std::move(clean);
  }
  return out;
}

std::string html_meta_charset(std::string_view html) {
  std::string head;
  head.reserve(std::min(html.size(), kMetaWindow));
  for (size_t i = 0; i < html.size() && i < kMetaWindow; ++i) head.push_back(lower(html[i]));
  size_t p = 0;
  while ((p = head.find("charset", p)) != std::string::npos) {
    p += 7;
    size_t q = p;
    while (q < head.size() && (head[q] == ' ' || head[q] == '\t')) ++q;
    if (q >= head.size() || head[q] != '=') continue;
    ++q;
    while (q < head.size() && (head[q] == ' ' || head[q] == '"' || head[q] == '\'')) ++q;
    size_t e = q;
    while (e < head.size() && (is_name_char(head[e]) || head[e] == '.')) ++e;
    if (e > q) return head.substr(q, e - q);
  }
  return "";
}

std::string html_to_text(std::string_view html, size_t max_out, uint32_t& flags, bool* truncated) {
  std::string flat;
  if (flatten_html(html, flat)) {
    flags |= kHtmlFlattened;
    html = flat;
  }
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 0;  // do not collect parse errors (broken HTML is the norm in spam)
  GumboOutput* output = gumbo_parse_with_options(&options, html.data(), html.size());
  Emitter em(max_out);
  if (output != nullptr) {
    render(output->document, em);
    gumbo_destroy_output(&options, output);
  }
  if (truncated != nullptr) *truncated = em.full();
  return em.take();
}

}  // namespace sf::mail
