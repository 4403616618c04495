"""A sensible starting set of priority rules, in Spanish and English (the demo loads it; docs/routing.md
shows it). Supervisors change them on /desk/routing/rules/."""

# (position, name, conditions, priority, moderation)
DEFAULT_RULES = [
    (10, "public complaint", {"is_public": True}, 2, ""),
    (20, "anger words", {"keywords": "vergüenza, vergonzoso, estafa, timo, indignante, ridículo, harto, harta, "
                                     "disgrace, scam, rip-off, ripoff, outrageous, unacceptable, fed up"}, 2, ""),
    (30, "urgency", {"keywords": "urgente, urgencia, cuanto antes, hoy mismo, ya mismo, "
                                 "urgent, asap, immediately, right now"}, 2, ""),
    (40, "legal threat", {"keywords": "denunciar*, denuncia, abogado*, demanda*, OCU, hoja de reclamaciones, "
                                      "lawyer*, sue, lawsuit, legal action"}, 3, ""),
    (50, "wants to cancel", {"keywords": "darme de baja, dar de baja, cancelar mi cuenta, cancelar la suscripción, "
                                         "cancel my account, close my account, cancel my subscription"}, 2, ""),
    (60, "VIP customer", {"customer_tag": "vip"}, 2, ""),
    (70, "repeated contact", {"repeated_contact": True}, 2, ""),
    (80, "insults", {"is_public": True, "keywords": "imbécil*, idiota*, gilipollas, inútiles, payasos, sinvergüenza*, "
                                                    "ladrones, idiot*, morons, stupid, clowns, thieves"}, None, "flag"),
]
