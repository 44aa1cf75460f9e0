"""Moved to `casegraph/identifiers.py`: parsers (mentions), graph and finance all normalise identifiers,
so it lives below them. These names stay importable from here for existing callers."""

from ..identifiers import REGION as REGION
from ..identifiers import Normal as Normal
from ..identifiers import bank_account as bank_account
from ..identifiers import btc as btc
from ..identifiers import email as email
from ..identifiers import eth as eth
from ..identifiers import iban as iban
from ..identifiers import nic as nic
from ..identifiers import nic_matches as nic_matches
from ..identifiers import normalise as normalise
from ..identifiers import passport as passport
from ..identifiers import phone as phone
from ..identifiers import tron as tron
from ..identifiers import tron_from_hex as tron_from_hex
from ..identifiers import tron_to_hex as tron_to_hex
from ..identifiers import username as username
from ..identifiers import valid as valid
