"""Crawling: poll feeds for new articles and check articles for changes, on the schedule kept in the store."""

from newsdelta.crawl.check import check_article
from newsdelta.crawl.context import CrawlContext
from newsdelta.crawl.loop import PassStats, crawl_forever, run_pass
from newsdelta.crawl.polling import poll_feed

__all__ = ["CrawlContext", "PassStats", "check_article", "crawl_forever", "poll_feed", "run_pass"]
