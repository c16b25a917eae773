"""Output: results, reports and the published matrix as text, Markdown, HTML; the console."""
