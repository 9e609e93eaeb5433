"""Patient matching: normalisation, blocking, Fellegi-Sunter scoring with explanations.

A pure library (no database): a caller extracts ``Features`` from each ``PersonRecord``,
stores them with their ``blocking_keys``, and scores candidates with a ``Model`` online
(``score``, one pair) or in batch (``dedupe``, ``link``). See docs/mpi.md.

Public API:

* ``record``: ``PersonRecord``, ``from_fhir_patient``
* ``features``: ``Features``, ``extract``
* ``blocking``: ``blocking_keys``, ``candidate_pairs``, ``link_pairs``
* ``model``: ``Model``, ``Thresholds``, ``default_model``, ``train``, ``score``, ``explain``
* ``explanation``: ``Score``, ``Contribution``
* ``batch``: ``score_pairs``, ``dedupe``, ``clusters``, ``link``
* ``prepared``: ``prepare``, ``combine``, ``PreparedRecords`` (keys and columns built once for
  a training run followed by a batch run)
"""

from chartkeeper.mpi.matching.batch import clusters, dedupe, link, score_pairs
from chartkeeper.mpi.matching.blocking import blocking_keys, candidate_pairs, link_pairs
from chartkeeper.mpi.matching.explanation import Contribution, Score
from chartkeeper.mpi.matching.features import Features, extract
from chartkeeper.mpi.matching.model import (
    Model,
    Thresholds,
    default_model,
    explain,
    score,
    train,
)
from chartkeeper.mpi.matching.prepared import PreparedRecords, combine, prepare
from chartkeeper.mpi.matching.record import PersonRecord, from_fhir_patient

__all__ = [
    "Contribution",
    "Features",
    "Model",
    "PersonRecord",
    "PreparedRecords",
    "Score",
    "Thresholds",
    "blocking_keys",
    "candidate_pairs",
    "clusters",
    "combine",
    "dedupe",
    "default_model",
    "explain",
    "extract",
    "from_fhir_patient",
    "link",
    "link_pairs",
    "prepare",
    "score",
    "score_pairs",
    "train",
]
