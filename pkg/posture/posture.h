/*
 * posture: netposture's pure domain logic — parse and validate SecurityGroupPosture and
 * VPCPosture specs, normalise desired and observed state to canonical forms, diff them (with
 * tags), plan make-before-break changes with a stable text form, fingerprint an observed group,
 * check guardrails and decide what the mode allows. No I/O, no clock, no globals.
 */
#ifndef NP_POSTURE_POSTURE_H
#define NP_POSTURE_POSTURE_H

/*
 * The interface, by topic:
 *   posture/sg.h         SecurityGroupPosture: spec, canonical forms, rules, diff, plan
 *   posture/guardrail.h  PostureGuardrail: parse, check, mark violating drift
 *   posture/policy.h     the remediation policy and its verdict
 *   posture/vpc.h        VPCPosture: spec, observed state, drift, plan, guardrails
 */
#include "posture/guardrail.h"
#include "posture/policy.h"
#include "posture/sg.h"
#include "posture/vpc.h"

#endif
