"""Invoice and receipt payloads, and the money arithmetic behind their totals.

Amounts are Decimals rounded half-up to the cent at each line, the discount and the tax, as they
are printed: the totals on the paper always add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import Field, model_validator

from lensops.pdf.models import LongText, Model, Party, ShortText

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
Money = Annotated[Decimal, Field(ge=0, le=Decimal("99999999.99"), decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class LineItem(Model):
    """One invoiced lens (or pair, service...): what it is, how many, at what price."""

    design: ShortText = Field(description="Lens design or product name")
    material: ShortText | None = None
    index: Decimal | None = Field(default=None, ge=Decimal("1.4"), le=Decimal("1.95"))
    coatings: list[ShortText] = Field(default_factory=list, max_length=10)
    description: ShortText | None = Field(default=None, description="Free text, e.g. the patient or eye")
    quantity: int = Field(ge=1, le=100_000)
    unit_price: Money
    discount_percent: Percent = Decimal(0)

    @property
    def amount(self) -> Decimal:
        gross = self.quantity * self.unit_price
        return cents(gross * (HUNDRED - self.discount_percent) / HUNDRED)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # sum of the line amounts
    discount: Decimal  # the document-wide discount
    net: Decimal
    tax: Decimal
    total: Decimal


class CommerceDocument(Model):
    number: ShortText
    seller: Party
    buyer: Party
    order_number: ShortText | None = None
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    lines: list[LineItem] = Field(min_length=1, max_length=2000)
    discount_percent: Percent = Field(default=Decimal(0), description="On the whole document")
    tax_rate: Percent = Field(description="Tax rate in percent, applied after the discount")
    tax_label: ShortText = "VAT"
    notes: LongText | None = None

    def totals(self) -> Totals:
        subtotal = sum((line.amount for line in self.lines), Decimal(0))
        discount = cents(subtotal * self.discount_percent / HUNDRED)
        net = subtotal - discount
        tax = cents(net * self.tax_rate / HUNDRED)
        return Totals(subtotal=subtotal, discount=discount, net=net, tax=tax, total=net + tax)


class InvoicePayload(CommerceDocument):
    issue_date: date
    due_date: date | None = None
    payment_terms: ShortText | None = Field(default=None, description='e.g. "Net 30, bank transfer"')
    bank_account: ShortText | None = Field(default=None, description="Where to pay (IBAN...)")

    @model_validator(mode="after")
    def _due_after_issue(self) -> InvoicePayload:
        if self.due_date is not None and self.due_date < self.issue_date:
            raise ValueError("due_date is before issue_date")
        return self


class ReceiptPayload(CommerceDocument):
    paid_on: date
    payment_method: ShortText = Field(description='e.g. "Card (Visa ****1234)", "Cash", "Transfer"')
    amount_paid: Money | None = Field(default=None, description="Defaults to the total")
    invoice_number: ShortText | None = Field(default=None, description="The invoice this receipt settles")
    reference: ShortText | None = Field(default=None, description="Card authorisation, transfer reference")

    def paid(self) -> Decimal:
        return self.amount_paid if self.amount_paid is not None else self.totals().total
