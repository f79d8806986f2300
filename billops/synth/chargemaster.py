"""The chargemaster (HCPCS Level II codes with their public descriptions; prices and
Medicare-like rates are invented) and the revenue code each line is billed under on an 837I."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChargeCode:
    hcpcs: str
    description: str
    price: str  # chargemaster unit price in reference.BASE_YEAR
    rate: str  # Medicare-like allowed amount per unit in reference.BASE_YEAR
    preventive: bool = False  # no patient cost sharing
    visit: bool = False  # carries the copay


CHARGEMASTER: dict[str, ChargeCode] = {
    c.hcpcs: c
    for c in [
        ChargeCode(
            hcpcs="G0463",
            description="Hospital outpatient clinic visit for assessment and management of a patient",
            price="285.00",
            rate="138.50",
            visit=True,
        ),
        ChargeCode(
            hcpcs="G2211",
            description="Visit complexity inherent to evaluation and management associated with medical care services",
            price="45.00",
            rate="16.05",
        ),
        ChargeCode(
            hcpcs="G0438",
            description="Annual wellness visit; includes a personalized prevention plan of service (pps), initial visit",
            price="395.00",
            rate="168.10",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="G0439",
            description="Annual wellness visit, includes a personalized prevention plan of service (pps), subsequent visit",
            price="310.00",
            rate="130.40",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="G0402",
            description="Initial preventive physical examination; face-to-face visit, services limited to new beneficiary during the first 12 months of medicare enrollment",
            price="360.00",
            rate="165.25",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="G0444",
            description="Annual depression screening, 5 to 15 minutes",
            price="55.00",
            rate="18.60",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="G0442",
            description="Annual alcohol misuse screening, 5 to 15 minutes",
            price="52.00",
            rate="18.60",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="G0447",
            description="Face-to-face behavioral counseling for obesity, 15 minutes",
            price="72.00",
            rate="25.80",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="G0008",
            description="Administration of influenza virus vaccine",
            price="68.00",
            rate="33.40",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="Q2039",
            description="Influenza virus vaccine, not otherwise specified",
            price="62.00",
            rate="24.85",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="Q0091",
            description="Screening papanicolaou smear; obtaining, preparing and conveyance of cervical or vaginal smear to laboratory",
            price="95.00",
            rate="43.30",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="G0121",
            description="Colorectal cancer screening; colonoscopy on individual not meeting criteria for high risk",
            price="2450.00",
            rate="1040.00",
            preventive=True,
        ),
        ChargeCode(
            hcpcs="G0378",
            description="Hospital observation service, per hour",
            price="165.00",
            rate="55.00",
        ),
        ChargeCode(
            hcpcs="G0283",
            description="Electrical stimulation (unattended), to one or more areas for indication(s) other than wound care, as part of a therapy plan of care",
            price="68.00",
            rate="12.90",
        ),
        ChargeCode(
            hcpcs="Q3014",
            description="Telehealth originating site facility fee",
            price="75.00",
            rate="31.85",
        ),
        ChargeCode(
            hcpcs="J1885",
            description="Injection, ketorolac tromethamine, per 15 mg",
            price="38.00",
            rate="0.55",
        ),
        ChargeCode(
            hcpcs="J3301",
            description="Injection, triamcinolone acetonide, not otherwise specified, 10 mg",
            price="42.00",
            rate="1.85",
        ),
        ChargeCode(
            hcpcs="J1100",
            description="Injection, dexamethasone sodium phosphate, 1 mg",
            price="9.00",
            rate="0.12",
        ),
        ChargeCode(
            hcpcs="J1030",
            description="Injection, methylprednisolone acetate, 40 mg",
            price="48.00",
            rate="4.10",
        ),
        ChargeCode(
            hcpcs="J0696",
            description="Injection, ceftriaxone sodium, per 250 mg",
            price="35.00",
            rate="0.85",
        ),
        ChargeCode(
            hcpcs="J2405",
            description="Injection, ondansetron hydrochloride, per 1 mg",
            price="14.00",
            rate="0.10",
        ),
        ChargeCode(
            hcpcs="J2930",
            description="Injection, methylprednisolone sodium succinate, up to 125 mg",
            price="58.00",
            rate="3.90",
        ),
        ChargeCode(
            hcpcs="J3420",
            description="Injection, vitamin b-12 cyanocobalamin, up to 1000 mcg",
            price="32.00",
            rate="0.75",
        ),
        ChargeCode(
            hcpcs="J7030",
            description="Infusion, normal saline solution, 1000 cc",
            price="95.00",
            rate="3.20",
        ),
        ChargeCode(
            hcpcs="J7050",
            description="Infusion, normal saline solution, 250 cc",
            price="60.00",
            rate="1.10",
        ),
        ChargeCode(
            hcpcs="J1745",
            description="Injection, infliximab, excludes biosimilar, 10 mg",
            price="310.00",
            rate="38.50",
        ),
        ChargeCode(
            hcpcs="J0897", description="Injection, denosumab, 1 mg", price="92.00", rate="21.05"
        ),
        ChargeCode(
            hcpcs="G0381",
            description="Level 2 hospital emergency department visit provided in a type b emergency department",
            price="420.00",
            rate="96.40",
            visit=True,
        ),
        ChargeCode(
            hcpcs="G0383",
            description="Level 4 hospital emergency department visit provided in a type b emergency department",
            price="1180.00",
            rate="268.30",
            visit=True,
        ),
        ChargeCode(
            hcpcs="J1170",
            description="Injection, hydromorphone, up to 4 mg",
            price="46.00",
            rate="1.45",
        ),
        ChargeCode(
            hcpcs="J1200",
            description="Injection, diphenhydramine hcl, up to 50 mg",
            price="28.00",
            rate="0.95",
        ),
        ChargeCode(
            hcpcs="J2270",
            description="Injection, morphine sulfate, up to 10 mg",
            price="44.00",
            rate="1.20",
        ),
        ChargeCode(
            hcpcs="J2550",
            description="Injection, promethazine hcl, up to 50 mg",
            price="30.00",
            rate="1.05",
        ),
        ChargeCode(
            hcpcs="J7040",
            description="Infusion, normal saline solution, sterile (500 ml=1 unit)",
            price="78.00",
            rate="2.10",
        ),
        ChargeCode(
            hcpcs="A4206",
            description="Syringe with needle, sterile, 1 cc or less, each",
            price="6.00",
            rate="0.20",
        ),
        ChargeCode(
            hcpcs="A4215", description="Needle, sterile, any size, each", price="5.00", rate="0.15"
        ),
        ChargeCode(hcpcs="A4550", description="Surgical trays", price="145.00", rate="8.40"),
        ChargeCode(
            hcpcs="A4556",
            description="Electrodes (e.g., apnea monitor), per pair",
            price="24.00",
            rate="14.80",
        ),
        ChargeCode(
            hcpcs="A4606",
            description="Oxygen probe for use with oximeter device, replacement",
            price="38.00",
            rate="17.50",
        ),
        ChargeCode(
            hcpcs="A6250",
            description="Skin sealants, protectants, moisturizers, ointments, any type, any size",
            price="22.00",
            rate="3.40",
        ),
        ChargeCode(
            hcpcs="A6402",
            description="Gauze, non-impregnated, sterile, pad size 16 sq. in. or less, without adhesive border, each dressing",
            price="8.00",
            rate="0.30",
        ),
        ChargeCode(
            hcpcs="A4216",
            description="Sterile water, saline and/or dextrose, diluent/flush, 10 ml",
            price="18.00",
            rate="0.60",
        ),
        ChargeCode(
            hcpcs="A4253",
            description="Blood glucose test or reagent strips for home blood glucose monitor, per 50 strips",
            price="85.00",
            rate="31.50",
        ),
        ChargeCode(
            hcpcs="E0114",
            description="Crutches, underarm, other than wood, adjustable or fixed, pair, with pads, tips and handgrips",
            price="145.00",
            rate="38.20",
        ),
        ChargeCode(
            hcpcs="E0143",
            description="Walker, folding, wheeled, adjustable or fixed height",
            price="225.00",
            rate="98.40",
        ),
        ChargeCode(
            hcpcs="E0601",
            description="Continuous positive airway pressure (cpap) device",
            price="1850.00",
            rate="780.00",
        ),
        ChargeCode(
            hcpcs="L3908",
            description="Wrist hand orthosis, wrist extension control cock-up, non molded, prefabricated, off-the-shelf",
            price="120.00",
            rate="58.90",
        ),
    ]
}


# NUBC revenue code of each chargemaster line on an institutional claim (837I SV201): the
# department that posts it. Drugs needing detailed coding go to 0636, IV solutions to 0258.
REVENUE_CODES: dict[str, str] = {
    "G0463": "0510",
    "G2211": "0510",
    "G0438": "0510",
    "G0439": "0510",
    "G0402": "0510",
    "G0444": "0510",
    "G0442": "0510",
    "G0447": "0510",
    "G0008": "0771",
    "Q2039": "0636",
    "Q0091": "0310",
    "G0121": "0750",
    "G0378": "0762",
    "G0283": "0420",
    "Q3014": "0780",
    "G0381": "0450",
    "G0383": "0450",
    "J7030": "0258",
    "J7040": "0258",
    "J7050": "0258",
    "A4253": "0270",
    "E0114": "0290",
    "E0143": "0290",
    "E0601": "0290",
    "L3908": "0274",
}


def revenue_code(hcpcs: str) -> str:
    """The four-digit revenue code a hospital bills ``hcpcs`` under (drugs 0636, supplies 0270)."""
    code = REVENUE_CODES.get(hcpcs)
    if code is not None:
        return code
    return "0636" if hcpcs.startswith("J") else "0270"
