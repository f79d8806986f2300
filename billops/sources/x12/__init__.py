"""X12 5010: a streaming tokenizer, the ISA/GS/ST envelope, and the 837 and 835 extractors.

Modules of this package: ``tokenizer`` (text to segments), ``envelope`` (transaction sets,
control numbers and counts), ``values`` (dates, amounts, element helpers), ``claims`` (837P and
837I), ``remittances`` (835), ``reader`` (one file of a kind to rows and rejects) and
``validate`` (pyx12's implementation-guide validation, run off the load path).

Tokenizing (:mod:`billops.sources.x12.tokenizer`). Delimiters come from each ISA segment;
padding between segments and a missing terminator after the last IEA are tolerated; the time is
linear in the input whatever it holds. A segment longer than ``settings.max_record_bytes`` or
with a control character (C0 or DEL other than the file's delimiters) in an element is a
:class:`FlawedSegment`: never loaded, its unit is rejected (below), and the reason names the
transaction set, the segment number and the problem, never a value. A file that ends inside an
oversize segment cannot be resynchronised and is an :class:`X12Error`.

Envelope. ST..SE transaction sets are yielded one at a time. SE01 (segment count), GE01 and IEA01
(counts) and the ST/SE, GS/GE and ISA/IEA control numbers are checked; a disagreement is an
:class:`X12Error`, a file-level error.

Extraction follows loops by segment id and the HL hierarchy (20 billing provider, 22 subscriber,
23 patient). Units of rejection (each a :class:`Reject` with its ``unit``):

* 837: the claim (2300 loop with its lines), ``unit="claim"``, ``unit_key`` CLM01, ``amount``
  CLM02 when readable; the claims beside it load. A diagnosis without a code is a ``record``.
* 835: the transaction set. Its rows are all built before any is handed on, and a header
  (BPR/TRN/N1/DTM*405), a claim at claim level (CLP, claim CAS, claim DTM, empty CLP01) or a
  PLB that cannot be mapped makes the whole set one Reject, ``unit="transaction_set"``,
  ``unit_key`` TRN02 (None without one) and ``amount`` BPR02 when readable: a payment never
  loads in part. An 835 without a trace number (TRN02) is rejected so too, since every row of
  it is keyed by the trace.
* 835 service line (SVC with its DTM/CAS/REF): a malformed line is rejected on its own,
  ``unit="record"``, and the rest of its claim loads (as pyx12 keeps the claim). Its
  adjustments go with it; the other lines keep ``line_seq`` = their SVC's place in the claim.
* A flawed segment rejects the smallest of these units holding it: its 837 claim (or every claim
  under its HL level, or of its set when it is in the set's header), its 835 service line when
  it is in one, else its 835 transaction set. A flawed ST, SE, GS, GE or IEA is an X12Error.

Every 835 claim is its own x12_remit_claims row, numbered ``claim_seq`` in its set: several
claims may share one CLP01 (a reversal and its correction), so no row is keyed by CLP01 alone.
Reasons carry no PHI: no names, member ids, account numbers or claim and service dates.

Choices where the guides leave room: ``x12_claims.patient_id`` is 2300 REF*EA (medical record
number); ``claim_type`` is ``P`` (837P, X222) or ``I`` (837I, X223); ``modifiers`` are the
procedure modifiers joined with ``,``; statement dates come from 2300 DTP*434; the 835
``payer_id`` is N1*PR N104, else the 1000A REF*2U, else TRN03 (the originating company id, also
kept as ``originator_id``), and ``payer_name`` is N1*PR N102 (a payer still missing is resolved
downstream through the matching 837 claim); ``payee_npi`` is N1*PE N104 when N103 is XX; the
835 claim ``member_id`` is NM1*IL NM109, else NM1*QC NM109; ``paid_date`` is claim DTM*232, else
DTM*050, else BPR16; an 835 service line's ``service_date`` is DTM*472, else DTM*150. Optional
segments (N1*PE, DTM*405, REF*2U, NM1*IL, line DTM, CAS) may be absent.
"""

from billops.sources.x12.claims import DIAGNOSIS_QUALIFIERS, extract_837
from billops.sources.x12.envelope import (
    TransactionSet,
    iter_transaction_sets,
    read_transaction_sets,
)
from billops.sources.x12.reader import EXTRACTORS, read_x12
from billops.sources.x12.remittances import extract_835
from billops.sources.x12.tokenizer import (
    CHUNK_SIZE,
    ISA_LENGTH,
    Delimiters,
    FlawedSegment,
    Segment,
    X12Error,
    iter_segments,
    read_chunks,
)
from billops.sources.x12.validate import X12Validation, validate_x12

__all__ = [
    "CHUNK_SIZE",
    "DIAGNOSIS_QUALIFIERS",
    "EXTRACTORS",
    "ISA_LENGTH",
    "Delimiters",
    "FlawedSegment",
    "Segment",
    "TransactionSet",
    "X12Error",
    "X12Validation",
    "extract_835",
    "extract_837",
    "iter_segments",
    "iter_transaction_sets",
    "read_chunks",
    "read_transaction_sets",
    "read_x12",
    "validate_x12",
]
