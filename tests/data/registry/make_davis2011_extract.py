"""Write davis2011_extract.tsv: the Davis et al. 2011 Kd values behind the registry's [Davis2011] records.

Davis MI et al., "Comprehensive analysis of kinase inhibitor selectivity", Nat Biotechnol
29:1046-1051 (2011), doi:10.1038/nbt.1990, tested 72 kinase inhibitors against 442 kinase assays
(competition binding, Kd in nM). Its Kd table is redistributed, keyed by PubChem CID, in the
DeepDTA data set (GitHub hkmztrk/DeepDTA, commit a546a8433a6822e958f36171c4356ad6f414d623,
data/davis/): ligands_can.txt (CID -> SMILES, in row order), proteins.txt (gene -> sequence,
in column order) and drug-target_interaction_affinities_Kd__Davis_et_al.2011v1.txt (the Kd
matrix, nM; 10000 marks an interaction not detected in the 10 uM primary screen).

This script reads those three files from a checkout and writes the rows for PI-103 and PP242
against mTOR and the class I PI3K catalytic subunits, so that the registry's transcription
can be tested without the data set. Usage:

    python make_davis2011_extract.py /path/to/DeepDTA/data/davis > davis2011_extract.tsv
"""

import json
import sys
from pathlib import Path

COMPOUNDS = {"9884685": "PI-103", "25243800": "PP242"}  # PubChem CID in the data set -> registry name
KINASES = {"MTOR": "mTOR", "PIK3CA": "PI3Kα", "PIK3CB": "PI3Kβ", "PIK3CD": "PI3Kδ", "PIK3CG": "PI3Kγ"}


def main(folder: Path) -> None:
    ligands = list(json.loads((folder / "ligands_can.txt").read_text()))
    proteins = list(json.loads((folder / "proteins.txt").read_text()))
    rows = [line.split() for line in
            (folder / "drug-target_interaction_affinities_Kd__Davis_et_al.2011v1.txt").read_text().splitlines()]
    assert len(rows) == len(ligands) and all(len(r) == len(proteins) for r in rows)
    print("# Davis et al. 2011 (doi:10.1038/nbt.1990) Kd table, via GitHub hkmztrk/DeepDTA "
          "a546a8433a6822e958f36171c4356ad6f414d623 data/davis; written by make_davis2011_extract.py")
    print("compound\tpubchem_cid\tkinase_gene\ttarget\tkd_nM")
    for cid, name in COMPOUNDS.items():
        i = ligands.index(cid)
        for gene, target in KINASES.items():
            print(f"{name}\t{cid}\t{gene}\t{target}\t{rows[i][proteins.index(gene)]}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
