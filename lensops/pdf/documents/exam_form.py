"""The eye-exam form: patient, history, acuity, refraction, IOP, findings, and the spectacle
prescription it results in, with the date it expires.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, TableStyle

from lensops.pdf import formatting as fmt
from lensops.pdf.exam import Acuity, ExamFormPayload
from lensops.pdf.layout import (
    INK,
    SMALL,
    TITLE,
    WIDTH,
    DocumentInfo,
    RenderedPdf,
    Table,
    banner,
    build,
    grid,
    heading,
    key_values,
    para,
    party_block,
    rx_table,
)


def render_exam_form(payload: ExamFormPayload) -> RenderedPdf:
    patient = payload.patient
    who = [
        ("Patient", patient.name),
        ("Patient ID", fmt.text(patient.patient_id)),
        ("Date of birth", fmt.day(patient.birth_date)),
        ("Phone", fmt.text(patient.phone)),
        ("Exam date", fmt.day(payload.exam_date)),
        ("Examiner", payload.examiner + (f" ({payload.examiner_licence})" if payload.examiner_licence else "")),
    ]
    top = Table(
        [[party_block("Practice", payload.practice), para("EYE EXAMINATION", TITLE)]],
        colWidths=[WIDTH / 2, WIDTH / 2],
    )
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story: list[Flowable] = [top, Spacer(1, 4 * mm), key_values(who)]
    history = payload.history
    story += [
        heading("History"),
        key_values(
            [
                ("Chief complaint", fmt.text(history.chief_complaint)),
                ("Ocular history", fmt.text(history.ocular)),
                ("Medical history", fmt.text(history.medical)),
                ("Medications", fmt.text(history.medications)),
                ("Allergies", fmt.text(history.allergies)),
                ("Family history", fmt.text(history.family)),
            ],
            columns=1,
        ),
    ]
    story += _acuity(payload)
    story += [heading("Refraction")]
    if payload.refraction.objective is not None:
        story += [rx_table(payload.refraction.objective, caption="Objective"), Spacer(1, 2 * mm)]
    story += [rx_table(payload.refraction.subjective, caption="Subjective")]
    if payload.iop is not None:
        iop = payload.iop
        story += [
            heading("Intraocular pressure"),
            key_values(
                [
                    ("Right", f"{fmt.mm(iop.right, 0)} mmHg"),
                    ("Left", f"{fmt.mm(iop.left, 0)} mmHg"),
                    ("Method", fmt.text(iop.method)),
                    ("Time", fmt.text(iop.time)),
                ]
            ),
        ]
    if payload.findings:
        rows: list[list[Any]] = [["Area", "Right", "Left"]]
        rows += [[para(f.area), para(f.right), para(f.left)] for f in payload.findings]
        story += [heading("Findings"), grid(rows, [40 * mm, 70 * mm, 70 * mm])]
    story += _prescription(payload)
    info = DocumentInfo(
        title=f"Eye examination {patient.name} {fmt.day(payload.exam_date)}",
        author=payload.practice.name,
        subject=f"Eye examination and spectacle prescription, valid until {fmt.day(payload.expiry)}",
        footer=f"{payload.practice.name} · {patient.name} · exam {fmt.day(payload.exam_date)}",
        date=payload.exam_date,
    )
    return build(story, info)


def _acuity(payload: ExamFormPayload) -> list[Flowable]:
    va = payload.visual_acuity
    measured: list[tuple[str, Acuity | None]] = [
        ("Distance, unaided", va.distance_unaided),
        ("Distance, aided", va.distance_aided),
        ("Near", va.near),
        ("Pinhole", va.pinhole),
    ]
    rows: list[list[Any]] = [["Visual acuity", "R", "L", "Both"]]
    rows += [
        [caption, para(value.right), para(value.left), para(value.both)]
        for caption, value in measured
        if value is not None
    ]
    if len(rows) == 1:
        return []
    return [heading("Visual acuity"), grid(rows, [45 * mm, 30 * mm, 30 * mm, 30 * mm], repeat=False)]


def _prescription(payload: ExamFormPayload) -> list[Flowable]:
    block: list[Flowable] = [heading("Spectacle prescription"), rx_table(payload.prescription)]
    if payload.pd is not None:
        block += [
            Spacer(1, 2 * mm),
            key_values([("PD right", fmt.mm(payload.pd.right)), ("PD left", fmt.mm(payload.pd.left))]),
        ]
    block += [Spacer(1, 3 * mm), banner(f"Valid until {fmt.day(payload.expiry)}", INK)]
    if payload.recommendations:
        block += [heading("Recommendations"), para(payload.recommendations)]
    signature = Table(
        [["", ""], [para(f"Signed: {payload.examiner}", SMALL), para("Date", SMALL)]],
        colWidths=[WIDTH * 0.6, WIDTH * 0.4],
        rowHeights=[12 * mm, None],
    )
    signature.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, 0), 0.5, INK), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    # The signature belongs to the prescription it signs: never alone at the top of a last page.
    return [KeepTogether([*block, Spacer(1, 6 * mm), signature])]
