"""The translation catalogue (English, French) and locale-aware formatting.

Every word the report, its captions and its figures show lives in
:data:`CATALOGUE`, one dict per language with the same keys. Keys are dotted
(``section.data.title``, ``segment.champions.action``); values are
:meth:`str.format` templates whose fields are filled with already formatted
strings (use :meth:`Translator.number`, :meth:`Translator.money`, ...).

French strings are written with ordinary spaces in the catalogue; French
typography (non-breaking space before ``:`` and inside « », narrow
non-breaking space before ``; ! ?`` and ``%``) is applied once when the module
is loaded, so the catalogue stays readable.

Numbers: English ``1,234.5``; French ``1 234,5`` with a narrow non-breaking
space (U+202F) as thousands separator. Money is pound sterling: English
``£1,234.50``, French ``1 234,50 £`` (U+00A0 before the symbol). Percentages:
``12.5%`` / ``12,5 %``. Dates: ``9 Dec 2011`` / ``9 déc. 2011``
(``1er déc. 2011`` on the first of the month).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from custseg.errors import ParameterError

__all__ = ["CATALOGUE", "LANGUAGES", "Translator"]

LANGUAGES = ("en", "fr")
"""Supported report languages; the first one is the default."""

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space (French thousands separator)

_MONTHS_LONG = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "fr": (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ),
}

# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------

_EN: dict[str, str] = {
    # report frame
    "report.title": "Customer segmentation report",
    "report.subtitle": "{dataset}, {start} to {end}",
    "report.generated": "Generated on {date} by custseg {version}.",
    "report.contents": "Contents",
    "report.figure": "Figure {n}",
    "report.table": "Table {n}",
    "report.figure_alt": "{title} (figure)",
    "report.figure_heading": "{label}: {title}",
    "report.not_available": "–",
    # sections, in the report's order
    "section.data.title": "Data and anomalies",
    "section.preprocessing.title": "Preprocessing",
    "section.methods.title": "Segmentation methods",
    "section.hyperparameters.title": "Choosing hyper-parameters",
    "section.segments.title": "Segments, interpretation and marketing actions",
    "section.comparison.title": "Comparison of methods",
    "section.appendix.title": "Appendix: parameters, versions, timings",
    # data section
    "data.intro": (
        "The transaction log holds {lines} lines: {orders} orders from {customers} customers "
        "in {countries} countries, from {start} to {end}, for a net revenue of {revenue}."
    ),
    "data.heading.key_figures": "Key figures",
    "data.heading.anomalies": "Anomalies found by the audit",
    "data.anomalies.intro": (
        "A line can show several anomalies, so the rows do not add up. Shares are of all "
        "{lines} lines; revenue is the net total of the lines concerned."
    ),
    "data.heading.distributions": "Quantities, prices and totals",
    "data.distributions.intro": (
        "Histograms and box plots use the strictly positive values only and log scales: "
        "{excluded} lines with a zero, negative or missing quantity are left out of the "
        "quantity figures, {excluded_price} lines out of the unit price figures."
    ),
    "data.heading.time": "Activity over time",
    "data.heading.countries": "Countries",
    "data.countries.intro": (
        "The ten largest markets by revenue; the {n} other countries are grouped under “Other”."
    ),
    "kf.lines": "Transaction lines",
    "kf.orders": "Orders (invoices)",
    "kf.customers": "Identified customers",
    "kf.countries": "Countries",
    "kf.period": "Period",
    "kf.period_value": "{start} to {end}",
    "kf.revenue": "Net revenue",
    "kf.median_line": "Median line total",
    "kf.median_order": "Median order total",
    "table.key_figures.title": "The transaction log at a glance",
    "table.findings.title": "Anomalies: rows and revenue concerned",
    "table.countries.title": "Revenue, customers and orders by country",
    "col.indicator": "Indicator",
    "col.value": "Value",
    "col.finding": "Anomaly",
    "col.rows": "Rows",
    "col.row_share": "Share of rows",
    "col.revenue": "Revenue",
    "col.meaning": "What it means",
    "col.country": "Country",
    "col.revenue_share": "Share of revenue",
    "col.customers": "Customers",
    "col.orders": "Orders",
    "col.parameter": "Parameter",
    "col.library": "Software",
    "col.version": "Version",
    "col.step": "Step",
    "col.time": "Time",
    # figures: titles and captions
    "fig.line_histograms.title": "Distribution of quantities, prices and totals",
    "fig.line_histograms.caption": (
        "Log scales, so that values spread over several orders of magnitude stay readable: "
        "look where the mass sits and how long the right tail is; the median line is worth "
        "{median_line}, the median order {median_order}."
    ),
    "fig.line_boxplots.title": "Extreme values",
    "fig.line_boxplots.caption": (
        "Boxes hold the middle half of the values (bar: median, diamond: mean) and whiskers "
        "reach 1.5 × IQR on the log scale; look at the points beyond them: {n_high} lines "
        "have a quantity above {fence} units."
    ),
    "fig.monthly.title": "Monthly revenue, orders and active customers",
    "fig.monthly.caption": (
        "Look for seasonality: the busiest month is {peak_month} with {peak_revenue}."
    ),
    "fig.monthly.caption_partial": (
        "Look for seasonality: the busiest month is {peak_month} with {peak_revenue}; "
        "hatched bars are incomplete months (the data end on {end})."
    ),
    "fig.countries.title": "Revenue by country",
    "fig.countries.caption": (
        "The largest market, {country}, alone brings {share} of the revenue; the axis is "
        "logarithmic so that the smaller markets stay visible."
    ),
    "fig.findings.title": "Anomalies found by the audit",
    "fig.findings.caption": (
        "Rows (log scale) and net revenue concerned by each anomaly: “{finding}” affects "
        "the most rows ({rows})."
    ),
    "fig.features.title": "Customer features before and after transformation",
    "fig.features.caption": (
        "Compare the skewness (0 = symmetric) before the transformation ({skew_before}) and "
        "after it ({skew_after}): distance-based clustering works best on roughly symmetric "
        "features."
    ),
    # preprocessing section
    "preprocessing.intro": (
        "Segmentation works on one row per customer. Recency, frequency and monetary value "
        "are right-skewed: a few customers order far more often and spend far more than the "
        "rest and would dominate every distance. They are therefore transformed ({method}) "
        "before clustering."
    ),
    "transform.log": "log(1 + x) on the skewed features, then standardisation",
    "transform.yeo-johnson": "Yeo-Johnson power transform, then standardisation",
    # variables: label and unit
    "var.quantity.label": "Quantity per line",
    "var.quantity.unit": "units",
    "var.unit_price.label": "Unit price",
    "var.unit_price.unit": "£",
    "var.amount.label": "Line total",
    "var.amount.unit": "£",
    "var.order_total.label": "Order total",
    "var.order_total.unit": "£",
    "var.recency.label": "Recency",
    "var.recency.unit": "days",
    "var.frequency.label": "Frequency",
    "var.frequency.unit": "orders",
    "var.monetary.label": "Monetary value",
    "var.monetary.unit": "£",
    "var.tenure.label": "Tenure",
    "var.tenure.unit": "days",
    "var.avg_order_value.label": "Average order value",
    "var.avg_order_value.unit": "£",
    "var.items_per_order.label": "Items per order",
    "var.items_per_order.unit": "units",
    "var.distinct_products.label": "Distinct products",
    "var.distinct_products.unit": "products",
    "var.return_rate.label": "Return rate",
    "var.return_rate.unit": "%",
    # axis labels
    "axis.with_unit": "{label} ({unit})",
    "axis.with_unit_log": "{label} ({unit}, log scale)",
    "axis.transformed": "{label}, transformed",
    "axis.lines_per_bin": "Lines per bin",
    "axis.orders_per_bin": "Orders per bin",
    "axis.customers_per_bin": "Customers",
    "axis.revenue": "Revenue (£)",
    "axis.revenue_log": "Revenue (£, log scale)",
    "axis.net_revenue": "Net revenue (£)",
    "axis.orders": "Orders",
    "axis.active_customers": "Active customers",
    "axis.rows_log": "Rows (log scale)",
    # legends and labels inside figures
    "legend.density": "Smoothed density",
    "legend.partial_month": "Incomplete month",
    "label.other_countries": "Other ({n} countries)",
    "label.unknown_country": "Unknown",
    "label.outliers": "{high} above, {low} below the whiskers",
    "label.skew": "skewness {value}",
    "label.before": "Before",
    "label.after": "After",
    "label.list_separator": "; ",
    # appendix
    "appendix.parameters": "Parameters",
    "appendix.versions": "Software versions",
    "appendix.timings": "Timings",
    "table.parameters.title": "Parameters of the run",
    "table.versions.title": "Versions of the software used",
    "table.timings.title": "Time per step",
    "timing.data_figures": "Figures: data and anomalies",
    "timing.preprocessing_figures": "Figures: preprocessing",
    "timing.total": "Total",
    "unit.seconds": "{value} s",
    # RFM segments: name, who they are, what to do
    "segment.champions.name": "Champions",
    "segment.champions.description": "Bought recently, buy often and spend the most.",
    "segment.champions.action": (
        "Reward them: early access to new products, loyalty perks, ask for reviews and "
        "referrals; no discount needed."
    ),
    "segment.loyal_customers.name": "Loyal customers",
    "segment.loyal_customers.description": "Buy regularly and spend well.",
    "segment.loyal_customers.action": (
        "Upsell higher-value products, enrol them in a loyalty programme, ask for reviews."
    ),
    "segment.potential_loyalists.name": "Potential loyalists",
    "segment.potential_loyalists.description": (
        "Recent customers with several orders and a good spend."
    ),
    "segment.potential_loyalists.action": (
        "Offer membership of the loyalty programme and recommend related products."
    ),
    "segment.new_customers.name": "New customers",
    "segment.new_customers.description": "Bought very recently, for the first time or nearly.",
    "segment.new_customers.action": (
        "Welcome series, follow-up on the first order, help with the second purchase."
    ),
    "segment.promising.name": "Promising",
    "segment.promising.description": "Recent shoppers who have not spent much yet.",
    "segment.promising.action": (
        "Build awareness of the range: samples, free shipping threshold, a modest incentive "
        "to reorder."
    ),
    "segment.need_attention.name": "Need attention",
    "segment.need_attention.description": (
        "Above-average frequency and spend, but no recent purchase."
    ),
    "segment.need_attention.action": (
        "Limited-time offers and recommendations based on their past purchases."
    ),
    "segment.about_to_sleep.name": "About to sleep",
    "segment.about_to_sleep.description": (
        "Below-average recency, frequency and spend: slipping away."
    ),
    "segment.about_to_sleep.action": (
        "Reconnect with best-sellers and a personalised discount before they lapse."
    ),
    "segment.at_risk.name": "At risk",
    "segment.at_risk.description": "Bought often and spent well, but a long time ago.",
    "segment.at_risk.action": (
        "Personalised win-back e-mails, renewal offers, a reminder of what they used to buy."
    ),
    "segment.cant_lose_them.name": "Can’t lose them",
    "segment.cant_lose_them.description": (
        "Among the biggest and most frequent buyers, but silent for a long time."
    ),
    "segment.cant_lose_them.action": (
        "Contact them personally (call, survey), make a strong offer, show the new products."
    ),
    "segment.hibernating.name": "Hibernating",
    "segment.hibernating.description": "Last purchase long ago, few orders, low spend.",
    "segment.hibernating.action": (
        "Low-cost campaigns only: relevant products and seasonal discounts."
    ),
    "segment.lost.name": "Lost",
    "segment.lost.description": "Lowest recency, frequency and spend.",
    "segment.lost.action": ("One reactivation campaign at most, then stop spending on them."),
    # audit findings: name and meaning
    "finding.missing_customer_id.name": "Missing customer id",
    "finding.missing_customer_id.description": (
        "Cannot be attributed to a customer, so left out of the segmentation."
    ),
    "finding.cancellation_lines.name": "Cancellations",
    "finding.cancellation_lines.description": (
        "Invoices starting with “C”: they cancel all or part of an earlier order."
    ),
    "finding.negative_quantity.name": "Negative quantity",
    "finding.negative_quantity.description": "Returns, cancellations and stock corrections.",
    "finding.zero_price.name": "Zero unit price",
    "finding.zero_price.description": ("Free items, samples or stock adjustments: no revenue."),
    "finding.negative_price.name": "Negative unit price",
    "finding.negative_price.description": "Accounting entries, not sales.",
    "finding.bad_debt_adjustment.name": "Bad-debt adjustment",
    "finding.bad_debt_adjustment.description": (
        "Invoices starting with “A”: accounting write-offs, not sales."
    ),
    "finding.exact_duplicates.name": "Exact duplicates",
    "finding.exact_duplicates.description": (
        "Identical on every column: most likely recorded twice."
    ),
    "finding.non_product_codes.name": "Non-product codes",
    "finding.non_product_codes.description": (
        "Postage, manual entries, discounts, bank charges and fees (POST, M, D, DOT…)."
    ),
    "finding.extreme_quantity.name": "Extreme quantity",
    "finding.extreme_quantity.description": (
        "Far above the usual quantities; often cancelled shortly afterwards."
    ),
    "finding.extreme_order_value.name": "Extreme order value",
    "finding.extreme_order_value.description": (
        "Orders worth far more than usual; check them before trusting totals."
    ),
}

_FR: dict[str, str] = {
    # report frame
    "report.title": "Rapport de segmentation de la clientèle",
    "report.subtitle": "{dataset}, du {start} au {end}",
    "report.generated": "Généré le {date} par custseg {version}.",
    "report.contents": "Sommaire",
    "report.figure": "Figure {n}",
    "report.table": "Tableau {n}",
    "report.figure_alt": "{title} (graphique)",
    "report.figure_heading": "{label} : {title}",
    "report.not_available": "–",
    # sections
    "section.data.title": "Données et anomalies",
    "section.preprocessing.title": "Préparation des données",
    "section.methods.title": "Méthodes de segmentation",
    "section.hyperparameters.title": "Choix des hyperparamètres",
    "section.segments.title": "Segments, interprétation et actions marketing",
    "section.comparison.title": "Comparaison des méthodes",
    "section.appendix.title": "Annexe : paramètres, versions, durées",
    # data section
    "data.intro": (
        "Le journal des transactions compte {lines} lignes : {orders} commandes de "
        "{customers} clients dans {countries} pays, du {start} au {end}, pour un chiffre "
        "d’affaires net de {revenue}."
    ),
    "data.heading.key_figures": "Chiffres clés",
    "data.heading.anomalies": "Anomalies relevées par l’audit",
    "data.anomalies.intro": (
        "Une ligne peut présenter plusieurs anomalies : les lignes ne s’additionnent donc "
        "pas. Les parts sont calculées sur l’ensemble des {lines} lignes ; le chiffre "
        "d’affaires est le total net des lignes concernées."
    ),
    "data.heading.distributions": "Quantités, prix et montants",
    "data.distributions.intro": (
        "Les histogrammes et les boîtes à moustaches ne retiennent que les valeurs "
        "strictement positives, sur des échelles logarithmiques : {excluded} lignes de "
        "quantité nulle, négative ou manquante sont écartées des figures de quantité, "
        "{excluded_price} lignes des figures de prix unitaire."
    ),
    "data.heading.time": "Activité dans le temps",
    "data.heading.countries": "Pays",
    "data.countries.intro": (
        "Les dix premiers marchés par chiffre d’affaires ; les {n} autres pays sont "
        "regroupés sous « Autres »."
    ),
    "kf.lines": "Lignes de transaction",
    "kf.orders": "Commandes (factures)",
    "kf.customers": "Clients identifiés",
    "kf.countries": "Pays",
    "kf.period": "Période",
    "kf.period_value": "du {start} au {end}",
    "kf.revenue": "Chiffre d’affaires net",
    "kf.median_line": "Montant médian d’une ligne",
    "kf.median_order": "Montant médian d’une commande",
    "table.key_figures.title": "Le journal des transactions en bref",
    "table.findings.title": "Anomalies : lignes et chiffre d’affaires concernés",
    "table.countries.title": "Chiffre d’affaires, clients et commandes par pays",
    "col.indicator": "Indicateur",
    "col.value": "Valeur",
    "col.finding": "Anomalie",
    "col.rows": "Lignes",
    "col.row_share": "Part des lignes",
    "col.revenue": "Chiffre d’affaires",
    "col.meaning": "Signification",
    "col.country": "Pays",
    "col.revenue_share": "Part du chiffre d’affaires",
    "col.customers": "Clients",
    "col.orders": "Commandes",
    "col.parameter": "Paramètre",
    "col.library": "Logiciel",
    "col.version": "Version",
    "col.step": "Étape",
    "col.time": "Durée",
    # figures
    "fig.line_histograms.title": "Distribution des quantités, des prix et des montants",
    "fig.line_histograms.caption": (
        "Échelles logarithmiques, pour lire des valeurs étalées sur plusieurs ordres de "
        "grandeur : regardez où se concentre la masse et la longueur de la queue à droite ; "
        "la ligne médiane vaut {median_line}, la commande médiane {median_order}."
    ),
    "fig.line_boxplots.title": "Valeurs extrêmes",
    "fig.line_boxplots.caption": (
        "Les boîtes contiennent la moitié centrale des valeurs (trait : médiane, losange : "
        "moyenne) et les moustaches s’étendent à 1,5 × l’écart interquartile sur l’échelle "
        "logarithmique ; regardez les points au-delà : {n_high} lignes ont une quantité "
        "supérieure à {fence} unités."
    ),
    "fig.monthly.title": "Chiffre d’affaires, commandes et clients actifs par mois",
    "fig.monthly.caption": (
        "Cherchez la saisonnalité : le mois le plus actif est {peak_month}, avec {peak_revenue}."
    ),
    "fig.monthly.caption_partial": (
        "Cherchez la saisonnalité : le mois le plus actif est {peak_month}, avec "
        "{peak_revenue} ; les barres hachurées sont des mois incomplets (les données "
        "s’arrêtent le {end})."
    ),
    "fig.countries.title": "Chiffre d’affaires par pays",
    "fig.countries.caption": (
        "Le premier marché, {country}, représente à lui seul {share} du chiffre d’affaires ; "
        "l’axe est logarithmique pour que les petits marchés restent visibles."
    ),
    "fig.findings.title": "Anomalies relevées par l’audit",
    "fig.findings.caption": (
        "Lignes (échelle logarithmique) et chiffre d’affaires net concernés par chaque "
        "anomalie : « {finding} » touche le plus de lignes ({rows})."
    ),
    "fig.features.title": "Variables client avant et après transformation",
    "fig.features.caption": (
        "Comparez l’asymétrie (0 = symétrique) avant la transformation ({skew_before}) et "
        "après ({skew_after}) : un partitionnement fondé sur les distances fonctionne mieux "
        "sur des variables à peu près symétriques."
    ),
    # preprocessing
    "preprocessing.intro": (
        "La segmentation porte sur une ligne par client. La récence, la fréquence et le "
        "montant sont très asymétriques : quelques clients commandent bien plus souvent et "
        "dépensent bien plus que les autres, et domineraient toutes les distances. Ces "
        "variables sont donc transformées ({method}) avant le partitionnement."
    ),
    "transform.log": "log(1 + x) sur les variables asymétriques, puis standardisation",
    "transform.yeo-johnson": "transformation puissance de Yeo-Johnson, puis standardisation",
    # variables
    "var.quantity.label": "Quantité par ligne",
    "var.quantity.unit": "unités",
    "var.unit_price.label": "Prix unitaire",
    "var.unit_price.unit": "£",
    "var.amount.label": "Montant de la ligne",
    "var.amount.unit": "£",
    "var.order_total.label": "Montant de la commande",
    "var.order_total.unit": "£",
    "var.recency.label": "Récence",
    "var.recency.unit": "jours",
    "var.frequency.label": "Fréquence",
    "var.frequency.unit": "commandes",
    "var.monetary.label": "Montant",
    "var.monetary.unit": "£",
    "var.tenure.label": "Ancienneté",
    "var.tenure.unit": "jours",
    "var.avg_order_value.label": "Panier moyen",
    "var.avg_order_value.unit": "£",
    "var.items_per_order.label": "Articles par commande",
    "var.items_per_order.unit": "unités",
    "var.distinct_products.label": "Produits distincts",
    "var.distinct_products.unit": "produits",
    "var.return_rate.label": "Taux de retour",
    "var.return_rate.unit": "%",
    # axes
    "axis.with_unit": "{label} ({unit})",
    "axis.with_unit_log": "{label} ({unit}, échelle log.)",
    "axis.transformed": "{label}, après transformation",
    "axis.lines_per_bin": "Lignes par classe",
    "axis.orders_per_bin": "Commandes par classe",
    "axis.customers_per_bin": "Clients",
    "axis.revenue": "Chiffre d’affaires (£)",
    "axis.revenue_log": "Chiffre d’affaires (£, échelle log.)",
    "axis.net_revenue": "Chiffre d’affaires net (£)",
    "axis.orders": "Commandes",
    "axis.active_customers": "Clients actifs",
    "axis.rows_log": "Lignes (échelle log.)",
    # legends and labels
    "legend.density": "Densité lissée",
    "legend.partial_month": "Mois incomplet",
    "label.other_countries": "Autres ({n} pays)",
    "label.unknown_country": "Inconnu",
    "label.outliers": "{high} au-dessus, {low} en dessous des moustaches",
    "label.skew": "asymétrie {value}",
    "label.before": "Avant",
    "label.after": "Après",
    "label.list_separator": " ; ",
    # appendix
    "appendix.parameters": "Paramètres",
    "appendix.versions": "Versions des logiciels",
    "appendix.timings": "Durées",
    "table.parameters.title": "Paramètres de l’exécution",
    "table.versions.title": "Versions des logiciels utilisés",
    "table.timings.title": "Durée de chaque étape",
    "timing.data_figures": "Figures : données et anomalies",
    "timing.preprocessing_figures": "Figures : préparation des données",
    "timing.total": "Total",
    "unit.seconds": "{value} s",
    # RFM segments
    "segment.champions.name": "Champions",
    "segment.champions.description": (
        "Ont acheté récemment, achètent souvent et dépensent le plus."
    ),
    "segment.champions.action": (
        "Les récompenser : accès en avant-première aux nouveautés, avantages de fidélité, "
        "demande d’avis et de parrainages ; aucune remise nécessaire."
    ),
    "segment.loyal_customers.name": "Clients fidèles",
    "segment.loyal_customers.description": "Achètent régulièrement et dépensent bien.",
    "segment.loyal_customers.action": (
        "Proposer des produits de gamme supérieure, les inscrire au programme de fidélité, "
        "leur demander des avis."
    ),
    "segment.potential_loyalists.name": "Fidèles potentiels",
    "segment.potential_loyalists.description": (
        "Clients récents, avec plusieurs commandes et un bon montant."
    ),
    "segment.potential_loyalists.action": (
        "Proposer l’adhésion au programme de fidélité et recommander des produits associés."
    ),
    "segment.new_customers.name": "Nouveaux clients",
    "segment.new_customers.description": (
        "Ont acheté très récemment, pour la première fois ou presque."
    ),
    "segment.new_customers.action": (
        "Série d’accueil, suivi de la première commande, aide au deuxième achat."
    ),
    "segment.promising.name": "Prometteurs",
    "segment.promising.description": "Acheteurs récents qui ont encore peu dépensé.",
    "segment.promising.action": (
        "Faire connaître la gamme : échantillons, seuil de livraison gratuite, petite "
        "incitation à recommander."
    ),
    "segment.need_attention.name": "À surveiller",
    "segment.need_attention.description": (
        "Fréquence et montant supérieurs à la moyenne, mais pas d’achat récent."
    ),
    "segment.need_attention.action": (
        "Offres à durée limitée et recommandations fondées sur leurs achats passés."
    ),
    "segment.about_to_sleep.name": "En voie d’endormissement",
    "segment.about_to_sleep.description": (
        "Récence, fréquence et montant inférieurs à la moyenne : ils s’éloignent."
    ),
    "segment.about_to_sleep.action": (
        "Renouer le contact avec les meilleures ventes et une remise personnalisée avant "
        "qu’ils ne décrochent."
    ),
    "segment.at_risk.name": "À risque",
    "segment.at_risk.description": (
        "Ont acheté souvent et beaucoup dépensé, mais il y a longtemps."
    ),
    "segment.at_risk.action": (
        "Courriels de reconquête personnalisés, offres de renouvellement, rappel de ce "
        "qu’ils achetaient."
    ),
    "segment.cant_lose_them.name": "À ne pas perdre",
    "segment.cant_lose_them.description": (
        "Parmi les plus gros et les plus fréquents acheteurs, mais silencieux depuis longtemps."
    ),
    "segment.cant_lose_them.action": (
        "Les contacter personnellement (appel, enquête), faire une offre forte, présenter "
        "les nouveautés."
    ),
    "segment.hibernating.name": "En hibernation",
    "segment.hibernating.description": ("Dernier achat ancien, peu de commandes, faible montant."),
    "segment.hibernating.action": (
        "Campagnes peu coûteuses uniquement : produits pertinents et remises saisonnières."
    ),
    "segment.lost.name": "Perdus",
    "segment.lost.description": "Récence, fréquence et montant les plus faibles.",
    "segment.lost.action": (
        "Une campagne de réactivation au plus, puis ne plus rien dépenser pour eux."
    ),
    # audit findings
    "finding.missing_customer_id.name": "Identifiant client manquant",
    "finding.missing_customer_id.description": (
        "Impossible à rattacher à un client : lignes écartées de la segmentation."
    ),
    "finding.cancellation_lines.name": "Annulations",
    "finding.cancellation_lines.description": (
        "Factures commençant par « C » : elles annulent tout ou partie d’une commande antérieure."
    ),
    "finding.negative_quantity.name": "Quantité négative",
    "finding.negative_quantity.description": ("Retours, annulations et corrections de stock."),
    "finding.zero_price.name": "Prix unitaire nul",
    "finding.zero_price.description": (
        "Articles gratuits, échantillons ou ajustements de stock : aucun chiffre d’affaires."
    ),
    "finding.negative_price.name": "Prix unitaire négatif",
    "finding.negative_price.description": "Écritures comptables, pas des ventes.",
    "finding.bad_debt_adjustment.name": "Ajustement de créance irrécouvrable",
    "finding.bad_debt_adjustment.description": (
        "Factures commençant par « A » : passages en perte comptables, pas des ventes."
    ),
    "finding.exact_duplicates.name": "Doublons exacts",
    "finding.exact_duplicates.description": (
        "Identiques sur toutes les colonnes : très probablement saisies deux fois."
    ),
    "finding.non_product_codes.name": "Codes hors produits",
    "finding.non_product_codes.description": (
        "Frais de port, saisies manuelles, remises, frais bancaires et commissions "
        "(POST, M, D, DOT…)."
    ),
    "finding.extreme_quantity.name": "Quantité extrême",
    "finding.extreme_quantity.description": (
        "Bien au-delà des quantités habituelles ; souvent annulée peu après."
    ),
    "finding.extreme_order_value.name": "Montant de commande extrême",
    "finding.extreme_order_value.description": (
        "Commandes d’un montant bien supérieur à l’habituel ; à vérifier avant de se fier "
        "aux totaux."
    ),
}


# Country names as they appear in the UCI Online Retail datasets -> French.
# English shows the data's own spelling.
_COUNTRIES_FR = {
    "Australia": "Australie",
    "Austria": "Autriche",
    "Bahrain": "Bahreïn",
    "Belgium": "Belgique",
    "Bermuda": "Bermudes",
    "Brazil": "Brésil",
    "Canada": "Canada",
    "Channel Islands": "Îles Anglo-Normandes",
    "Cyprus": "Chypre",
    "Czech Republic": "République tchèque",
    "Denmark": "Danemark",
    "EIRE": "Irlande",
    "European Community": "Communauté européenne",
    "Finland": "Finlande",
    "France": "France",
    "Germany": "Allemagne",
    "Greece": "Grèce",
    "Hong Kong": "Hong Kong",
    "Iceland": "Islande",
    "Israel": "Israël",
    "Italy": "Italie",
    "Japan": "Japon",
    "Korea": "Corée",
    "Lebanon": "Liban",
    "Lithuania": "Lituanie",
    "Malta": "Malte",
    "Netherlands": "Pays-Bas",
    "Nigeria": "Nigeria",
    "Norway": "Norvège",
    "Poland": "Pologne",
    "Portugal": "Portugal",
    "RSA": "Afrique du Sud",
    "Saudi Arabia": "Arabie saoudite",
    "Singapore": "Singapour",
    "Spain": "Espagne",
    "Sweden": "Suède",
    "Switzerland": "Suisse",
    "Thailand": "Thaïlande",
    "USA": "États-Unis",
    "United Arab Emirates": "Émirats arabes unis",
    "United Kingdom": "Royaume-Uni",
    "Unspecified": "Non précisé",
    "West Indies": "Antilles",
}
_EN.update({f"country.{name}": name for name in _COUNTRIES_FR})
_FR.update({f"country.{name}": french for name, french in _COUNTRIES_FR.items()})


def _french_typography(text: str) -> str:
    """Non-breaking spaces where French typography requires them."""
    text = re.sub(r" ([:»])", NBSP + r"\1", text)
    text = re.sub(r"« ", "«" + NBSP, text)
    text = re.sub(r" ([;!?%])", NNBSP + r"\1", text)
    return text


CATALOGUE: dict[str, dict[str, str]] = {
    "en": dict(_EN),
    "fr": {key: _french_typography(value) for key, value in _FR.items()},
}
"""Language -> key -> template. Both languages have exactly the same keys."""


# ---------------------------------------------------------------------------
# Translator
# ---------------------------------------------------------------------------


def _round_half_up(x: float, decimals: int) -> Decimal:
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP)


def _as_date(value: date | datetime | str | Any) -> date:
    """A date from a date, datetime, pandas/NumPy timestamp or ISO string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "year") and hasattr(value, "month") and hasattr(value, "day"):
        return date(int(value.year), int(value.month), int(value.day))
    text = value if isinstance(value, str) else str(value)[:19]  # numpy.datetime64
    try:
        return datetime.fromisoformat(text).date()
    except ValueError as exc:
        raise ParameterError(
            f"cannot read {value!r} as a date", fix="pass a date or an ISO 8601 string"
        ) from exc


class Translator:
    """Strings and number/date formats of one report language.

    Parameters
    ----------
    lang : {"en", "fr"}, default "en"
        Report language.

    Raises
    ------
    ParameterError
        ``lang`` is not a supported language.

    Examples
    --------
    >>> tr = Translator("fr")
    >>> tr.money(1234.5)
    '1\u202f234,50\xa0£'
    >>> Translator("en").date("2011-12-09")
    '9 Dec 2011'
    """

    def __init__(self, lang: str = "en") -> None:
        if lang not in CATALOGUE:
            raise ParameterError(
                f"unknown report language {lang!r}",
                fix=f"use one of {', '.join(LANGUAGES)}",
            )
        self.lang = lang
        self._catalogue = CATALOGUE[lang]

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"

    # -- strings ------------------------------------------------------------

    def t(self, key: str, **fmt: Any) -> str:
        """The template ``key`` in this language, filled with ``fmt``.

        Raises
        ------
        KeyError
            ``key`` is not in the catalogue (a programming error, caught by
            the catalogue tests).
        """
        try:
            template = self._catalogue[key]
        except KeyError:
            raise KeyError(f"no {self.lang!r} translation for {key!r}") from None
        return template.format(**fmt) if fmt else template

    def has(self, key: str) -> bool:
        """Whether ``key`` is in the catalogue."""
        return key in self._catalogue

    def segment_name(self, key: str) -> str:
        """Display name of an RFM segment (``champions``, ``at_risk``, ...)."""
        return self.t(f"segment.{key}.name")

    def segment_description(self, key: str) -> str:
        """Who the customers of an RFM segment are."""
        return self.t(f"segment.{key}.description")

    def segment_action(self, key: str) -> str:
        """Recommended marketing action for an RFM segment."""
        return self.t(f"segment.{key}.action")

    def finding_name(self, key: str) -> str:
        """Display name of an audit finding (``zero_price``, ...)."""
        return self.t(f"finding.{key}.name")

    def finding_description(self, key: str) -> str:
        """What an audit finding means."""
        return self.t(f"finding.{key}.description")

    def country(self, name: str) -> str:
        """A country name from the data, in this language when the catalogue knows it."""
        return self._catalogue.get(f"country.{name}", name)

    def variable(self, key: str, *, unit: bool = True, log: bool = False) -> str:
        """Axis label of a variable: ``Unit price (£, log scale)``."""
        label = self.t(f"var.{key}.label")
        if not unit:
            return label
        template = "axis.with_unit_log" if log else "axis.with_unit"
        return self.t(template, label=label, unit=self.t(f"var.{key}.unit"))

    # -- numbers --------------------------------------------------------------

    def _digits(self, x: float, decimals: int) -> str:
        value = _round_half_up(x, decimals)
        if value == 0:
            value = abs(value)  # no "-0"
        text = f"{value:,.{decimals}f}"
        if self.lang == "fr":
            text = text.replace(",", NNBSP).replace(".", ",")
        return text

    def number(self, x: float | int | None, decimals: int = 0) -> str:
        """``1,234.5`` (en) / ``1 234,5`` (fr); missing or non-finite -> ``–``."""
        if x is None or not math.isfinite(float(x)):
            return self.t("report.not_available")
        return self._digits(float(x), decimals)

    def percent(self, x: float | None, decimals: int = 1) -> str:
        """A fraction as a percentage: 0.125 -> ``12.5%`` / ``12,5 %``.

        A non-zero share that would round to zero is shown as ``<0.1%``
        (``< 0,1 %``).
        """
        if x is None or not math.isfinite(float(x)):
            return self.t("report.not_available")
        value = float(x) * 100.0
        smallest = 10.0**-decimals
        prefix = ""
        if 0 < abs(value) < smallest / 2:  # would round to zero: say "<0.1%"
            prefix, value = "<" if value > 0 else ">-", smallest
            prefix = prefix if self.lang == "en" else prefix + NNBSP
        digits = self._digits(value, decimals)
        return f"{prefix}{digits}%" if self.lang == "en" else f"{prefix}{digits}{NNBSP}%"

    def money(self, x: float | None, decimals: int = 2) -> str:
        """Pounds sterling: ``£1,234.50`` / ``1 234,50 £`` (``-£5.00`` / ``-5,00 £``)."""
        if x is None or not math.isfinite(float(x)):
            return self.t("report.not_available")
        digits = self._digits(abs(float(x)), decimals)
        negative = _round_half_up(float(x), decimals) < 0
        sign = "-" if negative else ""
        if self.lang == "en":
            return f"{sign}£{digits}"
        return f"{sign}{digits}{NBSP}£"

    def money_compact(self, x: float) -> str:
        """Short money for axis ticks: ``£1.2M``, ``£850k`` / ``1,2 M£``, ``850 k£``."""
        if x is None or not math.isfinite(float(x)):
            return self.t("report.not_available")
        value = abs(float(x))
        sign = "-" if x < 0 else ""
        for factor, suffix in ((1e9, "bn" if self.lang == "en" else "Md"), (1e6, "M"), (1e3, "k")):
            if value >= factor:
                scaled = value / factor
                decimals = 0 if scaled >= 10 or scaled == int(scaled) else 1
                digits = self._digits(scaled, decimals)
                if self.lang == "en":
                    return f"{sign}£{digits}{suffix}"
                return f"{sign}{digits}{NBSP}{suffix}£"
        decimals = 0 if value >= 10 or value == int(value) else 2
        return self.money(float(x), decimals)

    def seconds(self, x: float) -> str:
        """A duration in seconds: ``0.42 s`` / ``0,42 s``."""
        return self.t("unit.seconds", value=self.number(x, 2))

    # -- dates ----------------------------------------------------------------

    def date(self, d: date | datetime | str | Any) -> str:
        """``9 Dec 2011`` / ``9 déc. 2011`` (``1er`` on the first in French)."""
        day = _as_date(d)
        month = _MONTHS[self.lang][day.month - 1]
        number = "1er" if self.lang == "fr" and day.day == 1 else str(day.day)
        return f"{number} {month} {day.year}"

    def month(self, d: date | datetime | str | Any, *, long: bool = False) -> str:
        """Month and year: ``Dec 2011`` / ``déc. 2011``; ``long=True``: ``December 2011`` /
        ``décembre 2011`` (for running text). ``YYYY-MM`` strings work."""
        if isinstance(d, str) and len(d) == 7:
            d = d + "-01"
        day = _as_date(d)
        names = _MONTHS_LONG if long else _MONTHS
        return f"{names[self.lang][day.month - 1]} {day.year}"

    def month_short(self, d: date | datetime | str | Any) -> str:
        """Month abbreviation only: ``Dec`` / ``déc.``."""
        if isinstance(d, str) and len(d) == 7:
            d = d + "-01"
        return _MONTHS[self.lang][_as_date(d).month - 1]

    @property
    def html_lang(self) -> str:
        """Value of the HTML ``lang`` attribute (``en-GB``, ``fr-FR``)."""
        return {"en": "en-GB", "fr": "fr-FR"}[self.lang]
