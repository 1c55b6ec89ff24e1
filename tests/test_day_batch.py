"""models/demand.py: DayBatch.columns spells out every field, in order (take and join use it)."""
from dataclasses import fields

import numpy as np

from models.demand import DayBatch


def test_columns_are_the_fields_in_order():
    b = DayBatch(*(np.arange(3) + 10 * i for i in range(len(fields(DayBatch)))))
    assert [a.tolist() for a in b.columns()] == [getattr(b, f.name).tolist() for f in fields(DayBatch)]
    assert b.take(np.array([2, 0])).resident.tolist() == [b.resident[2], b.resident[0]]
