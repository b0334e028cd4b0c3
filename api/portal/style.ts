/**
 * The portal's one stylesheet, served from this server (/portal/assets/portal.css) so the CSP
 * allows no inline style and no other host. Mobile first: one column, nothing wider than the
 * screen at 375 px; focus always visible.
 */
export const PORTAL_CSS = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1b1f24; background: #f5f6f8; overflow-wrap: anywhere; }
a { color: #0b57d0; }
:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 8px; z-index: 1; }
header.top { background: #1b1f24; color: #fff; padding: 16px; }
header.top .agency { margin: 0; font-size: 1.25rem; }
header.top p { margin: 4px 0 0; color: #d0d4da; }
header.top form { margin-top: 8px; }
main { max-width: 960px; margin: 0 auto; padding: 16px; }
section.card { background: #fff; border: 1px solid #d8dce2; border-radius: 8px; padding: 16px;
  margin: 0 0 16px; }
h1 { font-size: 1.5rem; margin: 0 0 16px; }
h2 { font-size: 1.15rem; margin: 0 0 12px; }
h3 { font-size: 1rem; margin: 0 0 8px; }
dl.facts { display: grid; grid-template-columns: minmax(0, 1fr); gap: 4px 16px; margin: 0; }
dl.facts div { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 4px 12px;
  border-bottom: 1px solid #eef0f3; padding: 4px 0; }
dl.facts dt { color: #4b5563; }
dl.facts dd { margin: 0; font-weight: 600; text-align: right; }
@media (min-width: 720px) { dl.facts { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
.badge { display: inline-block; border-radius: 999px; padding: 0 10px; font-size: 0.875rem;
  font-weight: 600; border: 1px solid currentColor; cursor: help; }
.badge-active, .badge-paid { color: #136c2e; background: #e8f5ec; }
.badge-scheduled, .badge-pending { color: #1f4f99; background: #e8effa; }
.badge-past_due, .badge-overdue { color: #8a4b00; background: #fff4e0; }
.badge-blocked, .badge-failed { color: #a3161b; background: #fdecec; }
.badge-canceled, .badge-none { color: #4b5563; background: #f0f1f3; }
.banners { margin: 0 0 16px; padding: 0; list-style: none; }
.banner { border-radius: 8px; padding: 12px 16px; margin: 0 0 8px; border: 1px solid; }
.banner strong { display: block; }
.banner-danger { background: #fdecec; border-color: #e3a3a5; color: #7a1014; }
.banner-warning { background: #fff4e0; border-color: #e8c07a; color: #5e3300; }
.banner-info { background: #e8effa; border-color: #a9c1ea; color: #183b73; }
.meter { margin: 8px 0 12px; }
.meter label { display: block; font-weight: 600; }
progress.usage { width: 100%; height: 16px; appearance: none; -webkit-appearance: none;
  border: 1px solid #b8bec7; border-radius: 8px; background: #eef0f3; overflow: hidden; }
progress.usage::-webkit-progress-bar { background: #eef0f3; }
progress.usage::-webkit-progress-value { background: #1f7a3a; }
progress.usage::-moz-progress-bar { background: #1f7a3a; }
progress.usage.amber::-webkit-progress-value { background: #d98c00; }
progress.usage.amber::-moz-progress-bar { background: #d98c00; }
.note { color: #4b5563; font-size: 0.9rem; margin: 4px 0 0; }
.warn-text { color: #8a4b00; font-weight: 600; }
ul.plain { list-style: none; margin: 0; padding: 0; }
ul.plain > li { border-bottom: 1px solid #eef0f3; padding: 8px 0; }
.row { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 4px 12px; }
article.request { border: 1px solid #d8dce2; border-radius: 8px; padding: 12px; margin: 0 0 12px; }
article.request h3 { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 4px 12px; }
table.lines { width: 100%; border-collapse: collapse; margin: 8px 0; font-size: 0.95rem;
  table-layout: fixed; }
table.lines th, table.lines td { text-align: left; padding: 4px; border-top: 1px solid #eef0f3;
  vertical-align: top; }
table.lines th:last-child, table.lines td:last-child { text-align: right; width: 8.5em; }
table.lines tfoot th, table.lines tfoot td { font-weight: 700; }
button, .button { font: inherit; border-radius: 6px; padding: 6px 14px; border: 1px solid #8b929c;
  background: #fff; color: #1b1f24; cursor: pointer; text-decoration: none; display: inline-block; }
header.top button { background: transparent; color: #fff; border-color: #d0d4da; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
.message { max-width: 560px; margin: 48px auto; background: #fff; border: 1px solid #d8dce2;
  border-radius: 8px; padding: 24px; }
`;
