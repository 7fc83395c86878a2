"""A new request or a complement: open the case, decide, reply, route when eligible."""

from __future__ import annotations

import json

from sqlalchemy import func, insert
from sqlmodel import col, select

from gateway.cases.context import bump_rr
from gateway.cases.flow import CaseFlow, Incoming
from gateway.cases.offers import send_offer
from gateway.replies.facts import ReplyKind
from gateway.replies.issues import blocking_issues, merge_issues, rule_issues
from gateway.routing.assess import Assessment
from gateway.routing.decision import TO_COORDINATOR, verdict
from gateway.storage import repo
from gateway.storage.models import Case, CaseStatus, OfferKind, RuleResultRow
from gateway.wording import say
from parsers.follow_up import merge_follow_up
from parsers.request import Request

__all__ = ["FOLLOW_UP_STATUSES", "decide", "follow_up", "open_case", "route"]

# A message from the sender in these states completes the request; otherwise it asks for news.
FOLLOW_UP_STATUSES = frozenset({CaseStatus.RECEIVED, CaseStatus.INCOMPLETE, CaseStatus.INELIGIBLE})
_INSERT_RESULT = insert(RuleResultRow)  # built once
# The reply that tells the sender a verdict that does not route the request.
_REPLY_FOR = {
    "reject": ReplyKind.REJECTED,
    "refuse": ReplyKind.INELIGIBLE,
    "ask": ReplyKind.INCOMPLETE,
}


def open_case(flow: CaseFlow, incoming: Incoming, mailbox_name: str, programme: str) -> Case:
    request = incoming.parsed.request
    envelope = incoming.parsed.envelope
    case = Case(
        reference=repo.next_reference(flow.session, flow.now.year),
        programme=programme,
        status=CaseStatus.RECEIVED,
        mailbox=mailbox_name,
        sender=envelope.from_addr,
        root_message_id=envelope.message_id,
        request_json=request.model_dump_json(),
        opened_at=flow.now,
        updated_at=flow.now,
    )
    index_patient(case, request)
    repo.insert_now(flow.session, case)
    assert case.id is not None
    flow.note_opened(case, incoming)  # the message gets its case_id when it is done with
    repo.add_event(flow.session, case.id, "case_opened", {"programme": programme})
    repo.add_event(
        flow.session,
        case.id,
        "message_received",
        {
            "inbound_id": incoming.row.id,
            "kind": request.kind.value,
            "problems": len(request.problems),
        },
    )
    return case


def decide(
    flow: CaseFlow, case: Case, incoming: Incoming | None, *, follow_up: bool = False
) -> str | None:
    """Evaluate the case's request, store every rule result, reply, and route when eligible.

    Returns the kind of the reply sent to the sender, if any.
    """
    assert case.id is not None
    request = flow.request_of(case)
    assessment = flow.assess(case, request)
    store_results(flow, case, assessment)
    decision = assessment.decision(request)
    outcome = decision.outcome
    parse_issues = blocking_issues(request)
    case.updated_at = flow.now
    cause = (
        f"inbound:{incoming.row.id}"
        if incoming
        else f"case:{case.id}:decide:{flow.now.isoformat()}"
    )
    repo.add_event(
        flow.session,
        case.id,
        "rules_evaluated",
        {
            "outcome": outcome,
            "failed": [r.rule_id for r in assessment.evaluation.failed],
            "missing": [r.rule_id for r in assessment.evaluation.missing],
            "plan": assessment.plan.action,
        },
    )
    identity = assessment.evaluation.result("sender_verified")
    if identity is not None and identity.evidence.get("verifie") == "non":
        # Accepted by policy but flagged, so a coordinator sees it on the timeline.
        repo.add_event(flow.session, case.id, "sender_unverified", {"policy": "accept"})
    spec = flow.spec(case)
    step = verdict(decision, close_on_ineligible=spec is not None and spec.close_on_ineligible)
    # What the sender is told: a case a coordinator must decide is not "ineligible" yet.
    case.decision = TO_COORDINATOR if step.step == "escalate" else outcome
    if step.step == "escalate":
        assert step.escalate_reason_fr is not None
        return flow.escalate(case, step.escalate_reason_fr, incoming, cause)
    case.status = CaseStatus(step.status)
    if step.closes:
        case.closed_at = flow.now
    if step.step == "route":
        return route(flow, case, request, assessment, incoming, cause, follow_up=follow_up)
    issues = rule_issues(assessment.evaluation, set(step.issue_outcomes))
    if step.parse_issues:
        issues = merge_issues(parse_issues, issues)
    kind = _REPLY_FOR[step.step]
    if step.step == "ask" and follow_up:
        kind = ReplyKind.FOLLOW_UP
    return flow.reply(case, incoming, kind, cause, issues=issues)


def follow_up(flow: CaseFlow, case: Case, incoming: Incoming) -> str | None:
    assert case.id is not None
    previous = Request.model_validate_json(case.request_json) if case.request_json else None
    merged = merge_follow_up(previous, incoming.parsed.request)
    case.request_json = merged.model_dump_json()
    index_patient(case, merged)
    repo.add_event(
        flow.session,
        case.id,
        "follow_up_received",
        {"inbound_id": incoming.row.id, "remaining_problems": len(blocking_issues(merged))},
    )
    return decide(flow, case, incoming, follow_up=True)


def store_results(flow: CaseFlow, case: Case, assessment: Assessment) -> None:
    if not assessment.evaluation.results:
        return
    last = (
        0  # a case opened by this transaction has no earlier round
        if case.id in flow.opened
        else flow.session.exec(
            select(func.max(RuleResultRow.evaluation)).where(col(RuleResultRow.case_id) == case.id)
        ).one()
    )
    round_no = int(last or 0) + 1
    assert case.id is not None
    # Written at once, outside the unit of work: results are never read back as objects.
    flow.session.connection().execute(
        _INSERT_RESULT,
        [
            {
                "case_id": case.id,
                "evaluation": round_no,
                "position": position,
                "rule_id": result.rule_id,
                "outcome": result.outcome.value,
                "reason_fr": result.reason_fr,
                "evidence_json": json.dumps(result.evidence, ensure_ascii=False),
                "evaluated_at": flow.now,
            }
            for position, result in enumerate(assessment.evaluation.results)
        ],
    )


def index_patient(case: Case, request: Request) -> None:
    p = request.patient
    case.patient_family_name = (p.family_name or "").upper()[:120] or None
    case.patient_ins = p.ins


def route(
    flow: CaseFlow,
    case: Case,
    request: Request,
    assessment: Assessment,
    incoming: Incoming | None,
    cause: str,
    *,
    follow_up: bool = False,
) -> str | None:
    plan = assessment.plan
    assert case.id is not None
    ack = ReplyKind.FOLLOW_UP if follow_up else ReplyKind.ACK
    if plan.action == "offer_sequence":
        # Routed before the offer goes: its INSERT then writes the case's final state too,
        # and the case is not written again at the end (what a doctor reads is unchanged).
        case.status = CaseStatus.ROUTED
        bump_rr(flow.session)
        send_offer(flow, case, request, OfferKind.SIGNALEMENT, plan.targets[0])
        lines = [say("cases.ack.gp_offers")]
        return flow.reply(case, incoming, ack, cause, lines_fr=lines)
    if plan.action in ("te_named", "te_group"):
        kind = OfferKind.TE_NAMED if plan.action == "te_named" else OfferKind.TE_GROUP
        case.status = CaseStatus.ROUTED  # as above
        for target in plan.targets:
            send_offer(flow, case, request, kind, target)
        return flow.reply(case, incoming, ack, cause, lines_fr=[plan.reason_fr])
    if plan.action == "dac_referral":
        return refer_to_dac(flow, case, request, assessment, incoming, cause)
    if plan.action == "return_outcome":
        case.status = CaseStatus.COMPLETED
        case.closed_at = flow.now
        return flow.reply(case, incoming, ReplyKind.OUTCOME, cause)
    if plan.action == "escalate":
        return flow.escalate(case, plan.reason_fr, incoming, cause)
    return None


def refer_to_dac(
    flow: CaseFlow,
    case: Case,
    request: Request,
    assessment: Assessment,
    incoming: Incoming | None,
    cause: str,
) -> str | None:
    assert case.id is not None
    plan = assessment.plan
    team = plan.targets[0]
    flow.to_party(
        case,
        ReplyKind.DAC_REFERRAL,
        team.email,
        f"case:{case.id}:dac_referral",
        brief=request,
        identity=True,
        attachments=flow.original(case),
        requester_email=case.sender,
    )
    lines: list[str] = []
    if plan.notify_medecin_traitant:
        if plan.medecin_traitant_email:
            flow.to_party(
                case,
                ReplyKind.MT_NOTICE,
                plan.medecin_traitant_email,
                f"case:{case.id}:mt_notice",
                brief=request,
                identity=True,
            )
            lines.append(say("cases.dac.mt_notified"))
            repo.add_event(flow.session, case.id, "medecin_traitant_notified", {})
        else:
            lines.append(say("cases.dac.mt_unknown"))
            repo.add_event(flow.session, case.id, "medecin_traitant_unknown", {})
    case.status = CaseStatus.ROUTED
    repo.add_event(flow.session, case.id, "referred_to_dac", {"to": team.email})
    return flow.reply(case, incoming, ReplyKind.TRANSMITTED, cause, lines_fr=lines)
