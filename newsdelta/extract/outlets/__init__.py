"""One small module per outlet; `OUTLET_PARSERS` is the registry's list.

`OUTLET_PARSERS` are built on and checked against real captures in ../shared/corpus/outlets/. Reuters, AP News,
CNN and Al Jazeera were built from hand-made pages (tests/fixtures/outlets/) and no real capture of the
templates they read could be obtained, so they are `EXPERIMENTAL_PARSERS`: off unless
NEWSDELTA_EXPERIMENTAL_PARSERS names them; the generic extractor reads those outlets meanwhile.
"""

from __future__ import annotations

from newsdelta.extract.base import OutletParser
from newsdelta.extract.outlets.aljazeera import AL_JAZEERA
from newsdelta.extract.outlets.apnews import AP_NEWS
from newsdelta.extract.outlets.bbc import BBC_NEWS
from newsdelta.extract.outlets.cnn import CNN
from newsdelta.extract.outlets.guardian import GUARDIAN
from newsdelta.extract.outlets.independent import INDEPENDENT
from newsdelta.extract.outlets.nytimes import NEW_YORK_TIMES
from newsdelta.extract.outlets.reuters import REUTERS
from newsdelta.extract.outlets.rt import RT_NEWS
from newsdelta.extract.outlets.theintercept import THE_INTERCEPT
from newsdelta.extract.outlets.washingtonpost import WASHINGTON_POST

OUTLET_PARSERS: tuple[OutletParser, ...] = (
    BBC_NEWS,
    GUARDIAN,
    INDEPENDENT,
    NEW_YORK_TIMES,
    RT_NEWS,
    THE_INTERCEPT,
    WASHINGTON_POST,
)
EXPERIMENTAL_PARSERS: tuple[OutletParser, ...] = (REUTERS, AP_NEWS, CNN, AL_JAZEERA)

__all__ = ["EXPERIMENTAL_PARSERS", "OUTLET_PARSERS"]
