"""Invoice, credit-note and receipt payloads, and the money arithmetic behind their totals.

Amounts are Decimals rounded half-up to the cent at each line, and per VAT rate for the discount
and the tax, as they are printed: the totals on the paper always add up. Lines may carry their own
VAT rate (standard, reduced, exempt); the totals then hold one summary row per rate, as EU invoices
must show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from lensops.pdf.models import Document, LongText, Model, Party, ShortText

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
    tax_rate: Percent | None = Field(
        default=None, description="This line's VAT rate (reduced, 0 for exempt); default the document's tax_rate"
    )

    @property
    def amount(self) -> Decimal:
        gross = self.quantity * self.unit_price
        return cents(gross * (HUNDRED - self.discount_percent) / HUNDRED)


@dataclass(frozen=True)
class RateTotals:
    """The lines taxed at one rate: their amounts, their share of the discount, the net and the tax."""

    rate: Decimal
    amount: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # sum of the line amounts
    discount: Decimal  # the document-wide discount
    net: Decimal
    tax: Decimal
    total: Decimal
    by_rate: tuple[RateTotals, ...] = ()  # highest rate first


class CommerceDocument(Document):
    number: ShortText
    seller: Party
    buyer: Party
    order_number: ShortText | None = None
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    lines: list[LineItem] = Field(min_length=1, max_length=2000)
    discount_percent: Percent = Field(default=Decimal(0), description="On the whole document")
    tax_rate: Percent = Field(description="Tax rate in percent, applied after the discount (lines may override)")
    tax_label: ShortText = "VAT"
    tax_exemption: ShortText | None = Field(
        default=None, description='Why 0% lines are exempt, printed under the totals (e.g. "Art. 132 VAT Directive")'
    )
    notes: LongText | None = None

    def line_rate(self, line: LineItem) -> Decimal:
        return self.tax_rate if line.tax_rate is None else line.tax_rate

    def mixed_rates(self) -> bool:
        return len({self.line_rate(line) for line in self.lines}) > 1

    def totals(self) -> Totals:
        """The totals, rounded per rate: the discount is shared out in proportion to each rate's lines."""
        amounts: dict[Decimal, Decimal] = {}
        for line in self.lines:
            rate = self.line_rate(line)
            amounts[rate] = amounts.get(rate, Decimal(0)) + line.amount
        by_rate = []
        for rate in sorted(amounts, reverse=True):
            amount = amounts[rate]
            discount = cents(amount * self.discount_percent / HUNDRED)
            net = amount - discount
            by_rate.append(RateTotals(rate, amount, discount, net, cents(net * rate / HUNDRED)))
        subtotal = sum((r.amount for r in by_rate), Decimal(0))
        discount = sum((r.discount for r in by_rate), Decimal(0))
        tax = sum((r.tax for r in by_rate), Decimal(0))
        net = subtotal - discount
        return Totals(subtotal=subtotal, discount=discount, net=net, tax=tax, total=net + tax, by_rate=tuple(by_rate))


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


class CreditNotePayload(CommerceDocument):
    """A credit note: the lines credited back (given as positive; printed negative) against an invoice."""

    issue_date: date
    invoice_number: ShortText = Field(description="The invoice this credit note corrects")
    invoice_date: date | None = Field(default=None, description="That invoice's issue date")
    reason: ShortText | None = Field(default=None, description='e.g. "Lenses returned: wrong axis"')
    refund_method: ShortText | None = Field(default=None, description='e.g. "Offset against the next invoice"')

    @model_validator(mode="after")
    def _after_the_invoice(self) -> CreditNotePayload:
        if self.invoice_date is not None and self.issue_date < self.invoice_date:
            raise ValueError("issue_date is before invoice_date: a credit note follows its invoice")
        return self


class ReceiptPayload(CommerceDocument):
    paid_on: date
    payment_method: ShortText = Field(description='e.g. "Card (Visa ****1234)", "Cash", "Transfer"')
    amount_paid: Money | None = Field(default=None, description="Defaults to the total")
    overpayment: Literal["change", "credit"] = Field(
        default="credit", description="What happened to money paid beyond the total: change given, or credit kept"
    )
    invoice_number: ShortText | None = Field(default=None, description="The invoice this receipt settles")
    reference: ShortText | None = Field(default=None, description="Card authorisation, transfer reference")

    def paid(self) -> Decimal:
        return self.amount_paid if self.amount_paid is not None else self.totals().total
