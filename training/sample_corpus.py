"""Generate the synthetic Indonesian complaint corpus shipped in ``data/sample/``.

The real SP4N-LAPOR! dispositions hold personal data and cannot be published, so the quick
start trains on this corpus instead. It imitates what makes the real task hard: informal
spelling, HTML residue, personal numbers that must be masked, and complaints that plausibly
belong to two agencies. Every person and number in it is invented.

Every complaint to one of Kota Bandung's offices names the city (`_where`: "Kota Bandung", "kota
bdg", a kecamatan with the city…), as people mostly do: the model learns these labels as roles,
and only the place a complaint names makes a role Kota Bandung's office.

Besides national agencies and Kota Bandung's offices, local complaints come from regencies and
cities of several provinces (`GOVERNMENT_REGIONS`, places written from the gazetteer by
`training.regional_corpus.PlaceWriter`): matters of the regency's or city's government itself
(licences, district and village offices, markets) disposed to it ("PEMERINTAH KABUPATEN
SLEMAN"), and senior-high-school complaints disposed to the province's government ("PEMERINTAH
PROVINSI JAWA TIMUR"), the level the law gives them. A model trained with the shipped
catalogue learns these as the roles PEMKAB/PEMKOT and PEMPROV, and the place a complaint names
picks the government.

Only ``random.Random(seed)`` is used, so the output is byte-identical on every platform.

    python -m training.sample_corpus [--out data/sample/complaints.csv] [--n-per-agency N]
"""

from __future__ import annotations

import argparse
import csv
import functools
import random
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from routing.catalogue import government_agencies
from routing.gazetteer import Gazetteer, load_gazetteer
from training.regional_corpus import FORMS, PlaceWriter

Drawers = dict[str, Callable[[random.Random], str]]

DEFAULT_PATH: Path = Path(__file__).resolve().parents[1] / "data" / "sample" / "complaints.csv"
DEFAULT_SEED = 20240517
COLUMNS = ("id", "text", "agency")

PLN = "PT PLN (PERSERO)"
BPJS_KES = "BPJS KESEHATAN"
KEMENSOS = "KEMENTERIAN SOSIAL"
POLRI = "KEPOLISIAN NEGARA REPUBLIK INDONESIA"
IMIGRASI = "DIREKTORAT JENDERAL IMIGRASI"
OJK = "OTORITAS JASA KEUANGAN"
DUKCAPIL = "DITJEN DUKCAPIL KEMENDAGRI"
BPJS_TK = "BPJS KETENAGAKERJAAN"
DPU = "DINAS PEKERJAAN UMUM KOTA BANDUNG"
DINKES = "DINAS KESEHATAN KOTA BANDUNG"
PDAM = "PDAM TIRTAWENING KOTA BANDUNG"
DISHUB = "DINAS PERHUBUNGAN KOTA BANDUNG"
DISDIK = "DINAS PENDIDIKAN KOTA BANDUNG"
DLH = "DINAS LINGKUNGAN HIDUP KOTA BANDUNG"

CENTRAL_AGENCIES: tuple[str, ...] = (
    PLN,
    BPJS_KES,
    KEMENSOS,
    POLRI,
    IMIGRASI,
    OJK,
    DUKCAPIL,
    BPJS_TK,
)
LOCAL_AGENCIES: tuple[str, ...] = (DPU, DINKES, PDAM, DISHUB, DISDIK, DLH)
AGENCIES: tuple[str, ...] = CENTRAL_AGENCIES + LOCAL_AGENCIES

# Regencies/cities (Kemendagri codes) beyond Kota Bandung whose local complaints go to their
# governments, and the provinces whose senior-high-school complaints go to theirs: those of the
# regencies, but Jawa Barat's, whose education office the catalogue lists.
GOVERNMENT_REGIONS = (
    "12.07", "12.71", "32.04", "32.17", "33.72", "33.74", "34.04", "34.71",
    "35.07", "35.78", "51.03", "51.71", "64.71", "64.72", "73.06", "73.71",
)  # fmt: skip
PROVINCE_REGIONS = tuple(sorted({code[:2] for code in GOVERNMENT_REGIONS} - {"32"}))
# Place forms people commonly write (the invented shortenings are the benchmark's, not the
# sample's).
PLACE_FORMS = tuple(form for form in FORMS if "invented" not in form)

BANDUNG = "32.73"  # Kota Bandung, whose offices LOCAL_AGENCIES are
# Shortenings of Kota Bandung people write besides the forms PlaceWriter takes from the gazetteer.
BANDUNG_SHORTENINGS = ("kota bdg", "Kota Bdg")
# Sentences that say where a complaint to a Bandung office is: many topics name only a street,
# a kelurahan or a puskesmas. Worded as national complaints' introductions are, so that the
# wording alone does not tell a local complaint from a national one.
WHERE_BEFORE = ("Saya warga {tempat}.", "Saya tinggal di {tempat}.")
WHERE_AFTER = ("Saya warga {tempat}.", "Rumah saya di {tempat}.")

# Share of an agency's complaints drawn from topics it shares with another agency; these are
# what keep the sample from being trivially separable.
AMBIGUOUS_SHARE = 0.15

TOPICS: dict[str, tuple[str, ...]] = {
    PLN: (
        "Listrik di {lokasi} padam sejak {waktu} dan sampai sekarang belum menyala.",
        "Listrik di daerah {lokasi} sering mati hidup, sudah {n} kali minggu ini. "
        "Kulkas dan TV saya rusak.",
        "Saya beli token listrik {nominal} untuk ID pelanggan {pln_id} tapi token tidak masuk, "
        "saldo sudah terpotong.",
        "Token listrik yang saya beli lewat {aplikasi} gagal dimasukkan ke meteran, "
        "muncul tulisan gagal. ID pelanggan {pln_id}.",
        "Tagihan listrik bulan {bulan} membengkak jadi {nominal} padahal biasanya hanya "
        "{nominal2}. ID pelanggan {pln_id}.",
        "Tiang listrik di {jalan} miring dan hampir roboh, kabelnya menjuntai rendah.",
        "Kabel listrik di {jalan} terkelupas dan memercikkan api setiap hujan.",
        "Pengajuan tambah daya ke {daya} VA sudah {n} minggu belum diproses padahal sudah bayar.",
        "Meteran listrik prabayar di rumah saya rusak, angka kWh tidak berubah. "
        "ID pelanggan {pln_id}.",
        "Petugas P2TL memutus aliran listrik rumah saya dan meminta denda {nominal} "
        "tanpa penjelasan.",
        "Gardu listrik di dekat {patokan} berbunyi keras dan bau gosong, warga takut meledak.",
    ),
    KEMENSOS: (
        "Bansos {bansos} untuk keluarga saya belum cair sejak {bulan} padahal nama masih "
        "terdaftar di DTKS.",
        "Dana PKH tahap {tahap} belum masuk ke rekening KKS saya. NIK {nik}.",
        "Saya penerima BPNT tapi saldo di kartu KKS kosong sudah {n} bulan.",
        "Kartu KKS saya terblokir, bagaimana cara mengurus penggantian supaya bantuan "
        "bisa dicairkan?",
        "Nama saya dicoret dari daftar penerima bansos padahal kondisi ekonomi tidak berubah. "
        "Mohon dicek NIK {nik}.",
        "Pembagian BLT di {lokasi} tidak tepat sasaran, warga mampu dapat bantuan sedangkan "
        "warga miskin tidak.",
        "Pendamping PKH di {lokasi} meminta potongan {nominal} dari dana bantuan.",
        "Saya lansia dan disabilitas, sudah daftar lewat aplikasi Cek Bansos tapi status "
        "usulan masih ditolak.",
        "Bantuan sembako BPNT di e-warong {lokasi} dikurangi isinya dan harganya dimahalkan.",
        "Anak yatim di {lokasi} belum pernah menerima bantuan ATENSI dari dinas sosial.",
    ),
    POLRI: (
        "Pembuatan SIM {sim} di Satpas {polres} sangat lama dan ada calo yang menawarkan "
        "jalur cepat {nominal}.",
        "Saya mau membuat surat laporan kehilangan {barang} di Polsek {kecamatan} tapi "
        "dipersulit petugas.",
        "Ada oknum polisi yang melakukan pungli saat razia di {jalan}, meminta uang {nominal}.",
        "Laporan polisi saya tentang {kasus} sudah {n} bulan tidak ada perkembangan.",
        "Perpanjangan SIM online lewat aplikasi Digital Korlantas gagal terus padahal "
        "pembayaran sudah terpotong.",
        "Pembuatan SKCK di {polres} lama sekali, antrean sampai sore.",
        "Motor saya dicuri di {lokasi} pada {waktu}, sudah lapor ke polsek tapi belum ada "
        "tindak lanjut.",
        "Balap liar dan geng motor di {jalan} setiap malam minggu, mohon patroli polisi.",
        "Oknum anggota polisi di {polres} meminta uang {nominal} agar perkara damai.",
        "Tes praktik ujian SIM di Satpas {polres} sengaja dibuat sulit supaya pemohon pakai calo.",
    ),
    IMIGRASI: (
        "Pembuatan paspor di Kantor Imigrasi {kanim} sangat lama, sudah {n} minggu "
        "paspor belum jadi.",
        "Antrean online paspor di aplikasi M-Paspor selalu penuh, kuota habis terus.",
        "Saya sudah bayar PNBP paspor {nominal} tapi jadwal wawancara dibatalkan sepihak.",
        "Paspor saya hilang saat di luar negeri, bagaimana prosedur penggantian dan dendanya?",
        "Petugas di Kantor Imigrasi {kanim} tidak ramah dan menolak berkas saya tanpa "
        "alasan jelas.",
        "Perpanjangan KITAS suami saya yang WNA belum diproses sejak {bulan}.",
        "Ada calo di depan Kantor Imigrasi {kanim} yang menawarkan paspor kilat {nominal}.",
        "Aplikasi M-Paspor error saat unggah dokumen dan tidak bisa memilih jadwal kedatangan.",
        "Saya ditunda keberangkatan di bandara {bandara} karena petugas imigrasi curiga TKI "
        "nonprosedural.",
        "Visa on arrival untuk tamu saya ditolak di {bandara} tanpa penjelasan.",
    ),
    OJK: (
        "Saya diteror oleh pinjol {pinjol}, debt collector menyebarkan data saya ke semua kontak.",
        "Debt collector dari {leasing} datang ke rumah dan mau menarik motor saya secara paksa.",
        "Saya sudah melunasi pinjaman di {pinjol} tapi masih ditagih dan dendanya terus bertambah.",
        "Saldo rekening {bank} saya berkurang {nominal} tanpa transaksi, bank lambat merespon.",
        "Pengajuan restrukturisasi kredit di {bank} ditolak padahal usaha saya terdampak.",
        "Data KTP saya dipakai orang lain untuk pinjaman online tanpa sepengetahuan saya.",
        "Klaim asuransi {asuransi} saya ditolak tanpa alasan jelas padahal polis masih aktif.",
        "Nama saya masih tercatat kolektibilitas macet di SLIK OJK padahal pinjaman di {bank} "
        "sudah lunas.",
        "Kartu kredit {bank} saya dikenakan biaya tahunan {nominal} padahal sudah minta ditutup.",
        "Aplikasi pinjol {pinjol} mencairkan dana tanpa persetujuan lalu menagih bunga tinggi.",
    ),
    DUKCAPIL: (
        "Sudah {n} bulan e-KTP saya belum jadi, katanya blangko habis dan hanya diberi "
        "surat keterangan.",
        "Perekaman e-KTP di Disdukcapil {kota} antre panjang dan sistem sering offline.",
        "Pengurusan KK baru setelah menikah tidak selesai-selesai. NIK {nik}.",
        "Akta kelahiran anak saya salah penulisan nama, minta perbaikan tapi dipersulit.",
        "NIK saya tidak ditemukan saat registrasi kartu SIM padahal e-KTP sudah jadi. NIK {nik}.",
        "Pengajuan akta kematian orang tua saya belum selesai sejak {bulan}.",
        "Pindah domisili dari {kota} ke {kota2} sudah diajukan tapi data KK belum berubah.",
        "Aktivasi Identitas Kependudukan Digital (IKD) gagal terus di verifikasi wajah.",
        "NIK saya ganda dengan orang lain sehingga tidak bisa mengurus apa-apa. NIK {nik}.",
        "Status perkawinan di KK saya masih belum kawin padahal sudah ada buku nikah.",
    ),
    BPJS_KES: (
        "Saya ditolak di {faskes} karena kartu BPJS Kesehatan dinyatakan tidak aktif. "
        "Nomor kartu {bpjs}.",
        "Iuran BPJS Kesehatan saya menunggak dan dendanya {nominal}, mohon keringanan.",
        "Rujukan dari faskes tingkat pertama ke {rs} sangat sulit, selalu disuruh kembali "
        "minggu depan.",
        "Pindah faskes lewat aplikasi Mobile JKN tidak bisa, muncul error. No kartu {bpjs}.",
        "Pasien JKN di {rs} disuruh membeli obat sendiri seharga {nominal}.",
        "Saya sudah bayar iuran BPJS Kesehatan tapi status di Mobile JKN masih menunggak.",
        "Kamar rawat inap kelas 3 di {rs} selalu dibilang penuh untuk pasien BPJS Kesehatan.",
        "Tindakan operasi ibu saya di {rs} ditunda {n} kali dengan alasan kuota BPJS Kesehatan.",
        "Auto debet iuran BPJS Kesehatan terpotong dua kali bulan {bulan}. No kartu {bpjs}.",
        "Bayi saya belum bisa didaftarkan jadi peserta BPJS Kesehatan, syaratnya berbelit.",
    ),
    BPJS_TK: (
        "Pencairan JHT saya di BPJS Ketenagakerjaan sudah {n} minggu belum cair. No KPJ {kpj}.",
        "Klaim JHT lewat aplikasi JMO gagal terus di tahap verifikasi wajah.",
        "Perusahaan tempat saya bekerja tidak menyetorkan iuran BPJS Ketenagakerjaan padahal "
        "gaji dipotong.",
        "Saldo JHT di aplikasi JMO lebih kecil {nominal} dari yang seharusnya. No KPJ {kpj}.",
        "Klaim JKK untuk kecelakaan kerja saya belum dibayar dan perusahaan lepas tangan.",
        "Manfaat jaminan pensiun ayah saya belum dibayarkan sejak {bulan}.",
        "Antrean klaim JHT di kantor cabang BPJS Ketenagakerjaan {kota} harus datang subuh.",
        "Klaim JKP setelah saya kena PHK ditolak padahal masa iur cukup. No KPJ {kpj}.",
        "Santunan kematian JKM untuk suami saya belum cair, sudah {n} bulan menunggu.",
        "Dua nomor KPJ saya dari perusahaan lama dan baru tidak bisa digabung untuk klaim JHT.",
    ),
    DPU: (
        "Jalan di {jalan} rusak parah dan berlubang, sudah banyak pengendara motor jatuh.",
        "Lubang besar di {jalan} dekat {patokan} belum ditambal sejak {bulan}.",
        "Drainase di {kelurahan} mampet, setiap hujan air meluap ke jalan dan rumah warga.",
        "Trotoar di {jalan} rusak dan ubinnya lepas, membahayakan pejalan kaki.",
        "Jembatan kecil di {kelurahan} retak dan mulai ambles, mohon segera diperbaiki.",
        "Proyek perbaikan jalan di {jalan} terbengkalai, material menumpuk di bahu jalan.",
        "Gorong-gorong di {jalan} ambruk sehingga badan jalan amblas.",
        "Aspal di {jalan} baru diperbaiki {n} bulan lalu sudah mengelupas lagi.",
        "Tembok penahan tanah di sempadan sungai {kelurahan} longsor dan belum ditangani.",
        "Saluran drainase di {jalan} tertutup beton oleh pemilik ruko sehingga sering banjir.",
    ),
    DINKES: (
        "Pelayanan di Puskesmas {puskesmas} sangat lambat, dokter datang terlambat dan "
        "antrean menumpuk.",
        "Di {kelurahan} sudah {n} warga terkena DBD, mohon segera dilakukan fogging.",
        "Permintaan fogging di RW {rw} {kelurahan} belum ditanggapi padahal ada anak dirawat "
        "karena demam berdarah.",
        "Vaksin imunisasi anak di Puskesmas {puskesmas} kosong sejak {bulan}.",
        "Petugas Puskesmas {puskesmas} meminta {nominal} untuk surat keterangan sehat.",
        "Obat di apotek Puskesmas {puskesmas} sering kosong, pasien disuruh beli di luar.",
        "Klinik kecantikan di {jalan} beroperasi tanpa izin dan memakai dokter palsu.",
        "Kasus stunting di {kelurahan} tinggi tapi posyandu dan kader jarang aktif.",
        "Ambulans puskesmas di {kecamatan} tidak bisa dipakai saat warga gawat darurat.",
        "Jumantik tidak pernah datang ke {kelurahan} padahal jentik nyamuk banyak.",
    ),
    PDAM: (
        "Air PDAM di {kelurahan} mati sudah {n} hari, warga kesulitan air bersih.",
        "Air PDAM yang keluar keruh dan berbau, tidak layak pakai. No pelanggan {pdam_id}.",
        "Aliran air PDAM di {jalan} sangat kecil dan hanya mengalir tengah malam.",
        "Tagihan air PDAM bulan {bulan} naik menjadi {nominal} padahal pemakaian normal.",
        "Pipa PDAM bocor di {jalan}, air terbuang percuma sejak {waktu}.",
        "Meteran air di rumah saya rusak dan pencatatan meter hanya ditaksir. "
        "No pelanggan {pdam_id}.",
        "Pemasangan sambungan baru PDAM sudah dibayar tapi belum dipasang sejak {bulan}.",
        "Tidak ada pemberitahuan gangguan distribusi, tiba-tiba air ledeng tidak mengalir.",
        "Air dari Tirtawening berwarna kuning dan ada cacing kecilnya. No pelanggan {pdam_id}.",
        "Mobil tangki air bersih PDAM tidak datang ke {kelurahan} padahal sudah dijanjikan.",
    ),
    DISHUB: (
        "Parkir liar di {jalan} bikin macet dan juru parkir minta tarif {nominal}.",
        "Lampu lalu lintas di perempatan {jalan} mati sejak {waktu}, lalu lintas semrawut.",
        "Angkot jurusan {angkot} sering ngetem sembarangan di {jalan} dan bikin macet.",
        "Sopir angkot {angkot} menaikkan ongkos seenaknya dan mengemudi ugal-ugalan.",
        "Halte di {jalan} rusak dan dipakai pedagang, penumpang tidak bisa menunggu bus.",
        "Rambu larangan di {jalan} tertutup pohon, banyak kendaraan salah masuk jalur.",
        "Durasi lampu merah di simpang {jalan} terlalu lama sehingga antrean mengular.",
        "Bus Trans Metro Bandung koridor {n} sering tidak datang sesuai jadwal.",
        "Juru parkir di {patokan} tidak memberi karcis dan menarik tarif {nominal}.",
        "Uji KIR kendaraan di Dishub dipersulit kecuali bayar lebih {nominal}.",
    ),
    DISDIK: (
        "Anak saya tidak diterima PPDB jalur zonasi di SMPN {nomor} Bandung padahal rumah "
        "hanya {jarak} meter dari sekolah.",
        "Ada pungutan uang bangunan di SDN {sd} sebesar {nominal}.",
        "Situs PPDB online error saat pendaftaran, anak saya tidak bisa memilih sekolah.",
        "Sekolah mewajibkan membeli seragam dan buku {nominal} di koperasi sekolah.",
        "Ijazah anak saya ditahan SMPN {nomor} Bandung karena belum melunasi tunggakan SPP.",
        "Gedung SDN {sd} rusak, atap kelas bocor dan hampir ambruk.",
        "Dana PIP anak saya belum cair dan pihak sekolah tidak memberi informasi.",
        "Guru honorer di SDN {sd} belum menerima honor sejak {bulan}.",
        "Ada dugaan jual beli kursi PPDB di SMPN {nomor} Bandung seharga {nominal}.",
        "Kepala sekolah SDN {sd} meminta sumbangan perpisahan {nominal} per siswa.",
    ),
    DLH: (
        "Sampah menumpuk di TPS {kelurahan} sudah {n} hari tidak diangkut, baunya menyengat.",
        "Truk sampah tidak datang ke {kelurahan} sejak {waktu}, warga terpaksa membakar sampah.",
        "Pabrik di {kelurahan} membuang limbah ke Sungai {sungai}, airnya hitam dan berbau.",
        "Pembakaran sampah terbuka di {lokasi} menimbulkan asap tebal setiap sore.",
        "Pohon besar di {jalan} rapuh dan hampir tumbang, mohon dipangkas.",
        "Pembuangan sampah liar di pinggir {jalan} semakin banyak dan dibiarkan.",
        "Debu dan kebisingan dari proyek di {jalan} sangat mengganggu warga.",
        "Petugas kebersihan menarik iuran sampah {nominal} tapi sampah jarang diangkut.",
        "Taman kota di {kecamatan} kotor dan tempat sampahnya rusak semua.",
        "Bau busuk dari peternakan babi di {kelurahan} sampai ke permukiman.",
    ),
}

# Topics two agencies both receive; a label drawn for either agency is equally plausible.
SHARED_TOPICS: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = (
    (
        frozenset({DPU, PDAM}),
        (
            "Jalan di {jalan} rusak bekas galian pipa PDAM yang tidak ditutup kembali.",
            "Perbaikan pipa air di {jalan} meninggalkan lubang besar di tengah jalan.",
            "Ada rembesan air terus-menerus dari bawah aspal di {jalan}, jalannya jadi amblas.",
        ),
    ),
    (
        frozenset({DPU, DLH}),
        (
            "Selokan di {kelurahan} tersumbat sampah sehingga banjir setiap hujan.",
            "Sungai {sungai} penuh sampah dan meluap ke permukiman warga {kelurahan}.",
        ),
    ),
    (
        frozenset({DPU, DISHUB}),
        (
            "Lampu penerangan jalan umum di {jalan} mati semua, malam hari gelap dan rawan.",
            "Marka jalan dan zebra cross di {jalan} sudah pudar dan tidak terlihat.",
        ),
    ),
    (
        frozenset({PLN, DPU}),
        (
            "Tiang listrik berdiri di tengah badan jalan {jalan} setelah pelebaran jalan.",
            "Galian kabel di {jalan} tidak ditutup rapi sehingga jalan bergelombang.",
        ),
    ),
    (
        frozenset({DINKES, BPJS_KES}),
        (
            "Puskesmas {puskesmas} menolak pasien BPJS dan menyuruh bayar sebagai pasien umum.",
            "Rujukan dari Puskesmas {puskesmas} ke rumah sakit dipersulit, "
            "sudah bolak-balik {n} kali.",
        ),
    ),
    (
        frozenset({KEMENSOS, DUKCAPIL}),
        (
            "Bansos saya tidak cair karena NIK tidak padan dengan data kependudukan. NIK {nik}.",
            "Data DTKS saya berbeda dengan KK sehingga bantuan ditolak, mohon disinkronkan.",
        ),
    ),
    (
        frozenset({KEMENSOS, BPJS_KES}),
        ("Kartu BPJS PBI saya tiba-tiba dinonaktifkan padahal saya warga tidak mampu.",),
    ),
    (
        frozenset({OJK, POLRI}),
        (
            "Saya tertipu investasi online sebesar {nominal}, pelakunya tidak bisa dihubungi.",
            "Penagih utang online mengancam akan mencelakai keluarga saya lewat WhatsApp.",
        ),
    ),
    (
        frozenset({POLRI, DISHUB}),
        (
            "Preman memungut uang parkir {nominal} di {jalan} dan mengancam pengendara.",
            "Razia kendaraan di {jalan} pada jam sibuk menyebabkan kemacetan panjang.",
        ),
    ),
    (
        frozenset({DISDIK, DUKCAPIL}),
        ("Anak saya gagal PPDB zonasi karena tanggal terbit KK kurang dari satu tahun.",),
    ),
    (
        frozenset({IMIGRASI, DUKCAPIL}),
        ("Pengajuan paspor saya ditolak karena nama di e-KTP dan akta kelahiran berbeda.",),
    ),
    (
        frozenset({BPJS_TK, DUKCAPIL}),
        ("JHT tidak bisa dicairkan karena NIK di kepesertaan berbeda dengan data e-KTP.",),
    ),
    (
        frozenset({BPJS_TK, BPJS_KES}),
        ("Kartu BPJS dari perusahaan tidak aktif padahal iurannya dipotong dari gaji tiap bulan.",),
    ),
    (
        frozenset({DINKES, DLH}),
        (
            "Genangan air dan tumpukan sampah di {kelurahan} jadi sarang nyamuk, banyak warga "
            "kena DBD.",
            "Asap pembakaran sampah membuat warga {kelurahan} sesak napas dan batuk.",
        ),
    ),
    (
        frozenset({PDAM, DLH}),
        ("Air sumur dan air ledeng di {kelurahan} tercemar limbah pabrik, baunya menyengat.",),
    ),
    (
        frozenset({DISHUB, DLH}),
        ("Asap hitam knalpot bus dan angkot di {jalan} bikin polusi udara parah.",),
    ),
)

# Complaints about matters of a regency's/city's government itself (licences, its district and
# village offices, markets, public order): no office of a role the catalogue lists.
KABKOTA_TOPICS = (
    "Pengurusan izin PBG rumah saya di {tempat} tidak selesai sejak {bulan}.",
    "Pelayanan di kantor camat di {tempat} lambat dan petugasnya sering tidak di tempat.",
    "Oknum pegawai kantor kelurahan di {tempat} meminta {nominal} untuk surat pengantar.",
    "Satpol PP di {tempat} menggusur pedagang kaki lima tanpa pemberitahuan.",
    "Pasar tradisional milik pemda di {tempat} kumuh, atapnya bocor dan becek.",
    "Dana desa di {tempat} diduga diselewengkan, pembangunan tidak sesuai laporan.",
    "Penghasilan tetap perangkat desa di {tempat} belum dibayar sejak {bulan}.",
    "Seleksi tenaga honorer pemda di {tempat} tidak transparan, ada titipan pejabat.",
    "Retribusi pasar di {tempat} naik {nominal} tanpa sosialisasi, pedagang keberatan.",
    "Mal Pelayanan Publik di {tempat} tutup lebih awal dari jadwal yang diumumkan.",
)
# Senior high schools are the province's (UU 23/2014).
PROVINCE_TOPICS = (
    "Ijazah anak saya ditahan SMAN {nomor} {tempat} karena belum melunasi SPP.",
    "Ada dugaan jual beli kursi PPDB di SMA negeri {tempat} seharga {nominal}.",
    "SMK negeri di {tempat} mewajibkan membeli seragam seharga {nominal}.",
    "Guru honorer SMA negeri di {tempat} belum menerima honor sejak {bulan}.",
    "Komite SMAN {nomor} {tempat} memungut {nominal} per bulan dari setiap siswa.",
)

GREETINGS = (
    "Selamat pagi.",
    "Selamat siang,",
    "Selamat sore.",
    "Selamat malam,",
    "Assalamualaikum wr wb.",
    "Yth. Admin LAPOR,",
    "Dengan hormat,",
    "Permisi,",
    "Halo admin,",
    "Mohon maaf mengganggu.",
)
INTROS = (
    "Saya {nama}, warga {kelurahan_any}.",
    "Saya {nama} dengan NIK {nik} ingin melapor.",
    "Nama saya {nama}, tinggal di {lokasi}.",
    "Perkenalkan saya {nama} (NIK {nik}).",
    "Saya warga {kecamatan_any} mau menyampaikan keluhan.",
)
FOLLOW_UPS = (
    "Sudah {n} kali saya lapor ke kantor terkait tapi tidak ada respon.",
    "Kejadian ini sudah berlangsung sejak {bulan}.",
    "Sudah saya sampaikan ke call center tapi hanya disuruh menunggu.",
    "Warga sekitar juga mengalami hal yang sama.",
    "Kami sangat dirugikan dengan kondisi ini.",
    "Mohon ada kejelasan kapan masalah ini selesai.",
    "Saya sudah menunggu {n} minggu tanpa kabar.",
)
CONTACTS = (
    "Hubungi saya di {telepon}.",
    "No HP/WA {telepon}.",
    "Email saya {email}.",
    "Kontak: {telepon} / {email}.",
    "Bisa dihubungi lewat nomor {telepon}.",
)
CLOSINGS = (
    "Mohon ditindaklanjuti.",
    "Terima kasih.",
    "Mohon bantuannya, terima kasih.",
    "Tolong segera diperbaiki.",
    "Mohon segera ditindaklanjuti, terima kasih.",
    "Atas perhatiannya saya ucapkan terima kasih.",
    "Tolong ditindak tegas.",
    "Semoga cepat ditangani.",
)
BREAKS = ("&#60;br />", "&#60;br />&#60;br />", " <br /> ", "&lt;br&gt;")

INFORMAL = {
    "saya": ("sy", "aku", "sya"),
    "yang": ("yg",),
    "tidak": ("tdk", "gk", "gak", "ga", "nggak"),
    "belum": ("blm", "blum"),
    "sudah": ("udh", "sdh", "udah"),
    "karena": ("krn", "karna"),
    "dengan": ("dgn", "dg"),
    "tolong": ("tlg", "tolonggg", "tolongg"),
    "terus": ("trs", "terussss"),
    "sampai": ("sampe", "smp"),
    "untuk": ("utk", "buat"),
    "juga": ("jg",),
    "padahal": ("pdhl", "padahl"),
    "sekarang": ("skrg", "skrng"),
    "bagaimana": ("gimana", "bgmn"),
    "mohon": ("mhn", "mohonn"),
    "terima kasih": ("makasih", "trims", "thx", "terimakasih"),
    "sangat": ("sgt", "bgt"),
    "tapi": ("tp", "tapiii"),
    "minggu": ("mgg",),
    "hari": ("hr",),
    "segera": ("segeraaa", "sgr"),
    "bulan": ("bln",),
    "lagi": ("lg",),
}
_INFORMAL_RE = re.compile(
    r"\b(" + "|".join(sorted(INFORMAL, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_TRAILING_PUNCT_RE = re.compile(r"[.,!?](?=\s|$)")
# A full stop after a longer word ends a sentence; one after "Jl.", "Ds." or "Kec." does not.
_SENTENCE_END_RE = re.compile(r"(?<=\w{4}\.) ")

FIRST_NAMES = (
    "Agus", "Budi", "Siti", "Dewi", "Rina", "Asep", "Ujang", "Euis", "Dadang", "Nining",
    "Rizky", "Putri", "Fajar", "Indah", "Yudi", "Lilis", "Hendra", "Wulan", "Dedi", "Ratna",
    "Iwan", "Nurul", "Andi", "Yanti", "Cecep", "Tati", "Bayu", "Mega", "Eko", "Sri",
)  # fmt: skip
LAST_NAMES = (
    "Setiawan", "Hidayat", "Suryani", "Rahmawati", "Saputra", "Kurniawan", "Permana",
    "Nugraha", "Lestari", "Gunawan", "Supriatna", "Hermawan", "Wahyudi", "Sulastri",
    "Firmansyah", "Maulana", "Pratama", "Handayani", "Kusnadi", "Sumarna",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "yahoo.co.id", "yahoo.com", "outlook.com", "ymail.com")
BANDUNG_KECAMATAN = (
    "Coblong", "Sukajadi", "Cicendo", "Antapani", "Arcamanik", "Buahbatu", "Kiaracondong",
    "Lengkong", "Rancasari", "Ujungberung", "Cibiru", "Batununggal", "Regol", "Astanaanyar",
    "Andir", "Babakan Ciparay", "Bandung Kulon", "Sumur Bandung", "Cidadap", "Gedebage",
)  # fmt: skip
BANDUNG_KELURAHAN = (
    "Kelurahan Dago", "Kelurahan Sekeloa", "Kelurahan Cihaurgeulis", "Kelurahan Sukaluyu",
    "Kelurahan Antapani Kidul", "Kelurahan Cicaheum", "Kelurahan Margasari",
    "Kelurahan Cijagra", "Kelurahan Turangga", "Kelurahan Pasirluyu", "Kelurahan Cigereleng",
    "Kelurahan Babakan Sari", "Kelurahan Sukapura", "Kelurahan Cipadung", "Kelurahan Pasteur",
    "Kelurahan Sukagalih", "Kelurahan Garuda", "Kelurahan Ciroyom", "Kelurahan Cibadak",
    "Kelurahan Cisaranten Kulon",
)  # fmt: skip
BANDUNG_JALAN = (
    "Jl. Soekarno-Hatta", "Jl. Buah Batu", "Jl. Pasteur", "Jl. Ir. H. Juanda",
    "Jl. Cihampelas", "Jl. Setiabudi", "Jl. Kiaracondong", "Jl. Terusan Jakarta",
    "Jl. Gedebage Selatan", "Jl. Cibaduyut", "Jl. Moh. Toha", "Jl. Riau", "Jl. Asia Afrika",
    "Jl. Jenderal Sudirman", "Jl. A.H. Nasution", "Jl. Pasirkoja", "Jl. Cicaheum",
    "Jl. Sukajadi", "Jl. Cikutra", "Jl. Peta", "Jl. Kopo", "Jl. Dipatiukur",
)  # fmt: skip
BANDUNG_PATOKAN = (
    "Pasar Kosambi", "Alun-alun Bandung", "Gedung Sate", "Terminal Cicaheum",
    "Stasiun Kiaracondong", "Pasar Caringin", "Bandung Indah Plaza", "Masjid Pusdai",
    "Taman Lansia", "Pasar Baru", "Terminal Leuwipanjang", "Kampus ITB",
)  # fmt: skip
OTHER_KOTA = (
    "Kota Bekasi", "Kota Depok", "Kabupaten Bogor", "Kota Cimahi", "Kabupaten Garut",
    "Kota Tasikmalaya", "Kota Surabaya", "Kota Medan", "Kota Semarang", "Kabupaten Sleman",
    "Kota Makassar", "Jakarta Timur", "Kabupaten Bandung", "Kota Cirebon", "Kota Palembang",
)  # fmt: skip
KANIM = ("Bandung", "Jakarta Selatan", "Bekasi", "Surabaya", "Tangerang", "Bogor", "Depok")
POLRES = ("Polrestabes Bandung", "Polres Cimahi", "Polres Bekasi Kota", "Polres Bogor",
          "Polres Depok", "Polrestabes Surabaya", "Polres Garut")  # fmt: skip
BANDARA = ("Soekarno-Hatta", "Kertajati", "Juanda", "Ngurah Rai", "Kualanamu")
PINJOL = ("DanaKilat", "UangCepat88", "PinjamYuk", "KreditMudah", "RupiahGo", "CairAja")
LEASING = ("FinansiaMotor", "AdiraKredit", "MegaLeasing", "OtoMulti")
BANKS = ("BRI", "BNI", "Bank Mandiri", "BCA", "BTN", "Bank BJB", "Bank Syariah Indonesia")
ASURANSI = ("jiwa", "kesehatan", "kendaraan", "unit link")
RUMAH_SAKIT = ("RSUD Kota Bandung", "RS Hasan Sadikin", "RS Al Islam", "RS Immanuel",
               "RSUD Bekasi", "RS Santo Borromeus", "RSUD Cibabat")  # fmt: skip
PUSKESMAS = ("Puter", "Ibrahim Adjie", "Garuda", "Padasuka", "Sukajadi", "Cipamokolan",
             "Pasirkaliki", "Babakan Sari", "Kopo", "Ujungberung Indah")  # fmt: skip
FASKES = ("klinik pratama", "puskesmas", "dokter keluarga", "klinik faskes pertama")
ANGKOT = ("Kalapa-Dago", "Caheum-Ciroyom", "Cicaheum-Ledeng", "St. Hall-Gedebage",
          "Abdul Muis-Elang", "Cisitu-Tegalega")  # fmt: skip
SUNGAI = ("Cikapundung", "Citarum", "Cidurian", "Cinambo", "Citepus")
BANSOS = ("PKH", "BPNT", "BLT", "sembako", "PBI")
SIM = ("A", "C", "B1", "A umum")
BARANG = ("dompet", "KTP", "ATM", "STNK", "BPKB", "ponsel", "ijazah")
KASUS = ("penipuan jual beli online", "penganiayaan", "pencurian", "penggelapan motor",
         "perusakan rumah")  # fmt: skip
APLIKASI = ("m-banking", "aplikasi PLN Mobile", "minimarket", "dompet digital")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")  # fmt: skip
WAKTU = ("kemarin sore", "tadi pagi", "semalam", "hari Senin", "jam 7 pagi", "pukul 19.00",
         "dua hari lalu", "minggu lalu", "Jumat malam", "subuh tadi")  # fmt: skip
NIK_PREFIXES = ("3273", "3204", "3217", "3277", "3201", "3275", "3276")
PHONE_PREFIXES = ("811", "812", "813", "821", "822", "852", "853", "857", "877", "878",
                  "895", "896")  # fmt: skip


def _digits(rng: random.Random, k: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(k))


def _nik(rng: random.Random) -> str:
    # Province/regency + district + birth date (DDMMYY) + serial: the real NIK layout.
    day = rng.randint(1, 28) + rng.choice((0, 40))  # women add 40 to the day
    return (
        rng.choice(NIK_PREFIXES)
        + f"{rng.randint(1, 30):02d}{day:02d}{rng.randint(1, 12):02d}{rng.randint(50, 99):02d}"
        + _digits(rng, 4)
    )


def _phone(rng: random.Random) -> str:
    body = rng.choice(PHONE_PREFIXES) + _digits(rng, rng.choice((7, 8)))
    style = rng.randrange(4)
    if style == 0:
        return "0" + body
    if style == 1:
        return "+62" + body
    if style == 2:
        return f"0{body[:3]}-{body[3:7]}-{body[7:]}"
    return f"+62 {body[:3]} {body[3:7]} {body[7:]}"


def _rupiah(rng: random.Random) -> str:
    amount = rng.choice((5, 10, 15, 20, 25, 35, 50, 75, 100, 150, 250, 500, 750, 1500, 3000))
    amount *= 1000 + rng.choice((0, 0, 0, 500))
    style = rng.randrange(3)
    if style == 0:
        return "Rp" + f"{amount:,}".replace(",", ".")
    if style == 1:
        return "Rp " + f"{amount:,}".replace(",", ".") + ",-"
    if amount >= 1_000_000 and amount % 100_000 == 0:
        return f"{amount / 1_000_000:g} juta".replace(".", ",")
    return f"{amount // 1000}rb"


def _email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES).lower(), rng.choice(LAST_NAMES).lower()
    sep = rng.choice((".", "_", ""))
    return f"{first}{sep}{last}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"


def _slot_drawers(local: bool) -> dict[str, Callable[[random.Random], str]]:
    """Map each template slot to a drawer; local agencies only see places in Bandung."""
    kota_pool = ("Kota Bandung",) if local else ("Kota Bandung", *OTHER_KOTA)

    def lokasi(rng: random.Random) -> str:
        kota = rng.choice(kota_pool)
        if kota == "Kota Bandung":
            return f"{rng.choice(BANDUNG_KELURAHAN)}, {rng.choice(BANDUNG_KECAMATAN)}"
        area = rng.choice(("Perumahan", "Desa", "Kampung", "Gang"))
        return f"{area} {rng.choice(LAST_NAMES)}, {kota}"

    def kecamatan(rng: random.Random) -> str:
        return rng.choice(BANDUNG_KECAMATAN if local else BANDUNG_KECAMATAN + OTHER_KOTA)

    return {
        "lokasi": lokasi,
        "kecamatan": kecamatan,
        "kecamatan_any": kecamatan,
        "kelurahan": lambda r: r.choice(BANDUNG_KELURAHAN),
        "kelurahan_any": lambda r: lokasi(r).split(",")[0],
        "jalan": lambda r: (
            r.choice(BANDUNG_JALAN)
            + r.choice(("", "", f" No. {r.randint(1, 250)}", f" dekat {r.choice(BANDUNG_PATOKAN)}"))
        ),
        "patokan": lambda r: r.choice(BANDUNG_PATOKAN),
        "kota": lambda r: r.choice(kota_pool),
        "kota2": lambda r: r.choice(OTHER_KOTA),
        "nama": lambda r: f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}",
        "nik": _nik,
        "telepon": _phone,
        "email": _email,
        "pln_id": lambda r: "5" + _digits(r, 11),
        "bpjs": lambda r: "000" + _digits(r, 10),
        "kpj": lambda r: r.choice(("19", "20", "21", "22")) + _digits(r, 9),
        "pdam_id": lambda r: r.choice(("01", "02", "03", "04")) + _digits(r, 6),
        "nominal": _rupiah,
        "nominal2": _rupiah,
        "n": lambda r: str(r.randint(2, 9)),
        "nomor": lambda r: str(r.randint(1, 57)),
        "sd": lambda r: f"{r.randint(1, 250)} {r.choice(BANDUNG_KECAMATAN)}",
        "rw": lambda r: f"{r.randint(1, 15):02d}",
        "jarak": lambda r: str(r.choice((150, 200, 300, 350, 400, 500, 700, 800))),
        "tahap": lambda r: r.choice(("1", "2", "3", "4", "I", "II", "III")),
        "daya": lambda r: r.choice(("1.300", "2.200", "3.500", "4.400", "5.500")),
        "bulan": lambda r: r.choice(BULAN) + r.choice(("", " lalu", " kemarin")),
        "waktu": lambda r: r.choice(WAKTU),
        "kanim": lambda r: r.choice(KANIM),
        "polres": lambda r: r.choice(POLRES),
        "bandara": lambda r: r.choice(BANDARA),
        "pinjol": lambda r: r.choice(PINJOL),
        "leasing": lambda r: r.choice(LEASING),
        "bank": lambda r: r.choice(BANKS),
        "asuransi": lambda r: r.choice(ASURANSI),
        "rs": lambda r: r.choice(RUMAH_SAKIT),
        "puskesmas": lambda r: r.choice(PUSKESMAS),
        "faskes": lambda r: f"{r.choice(FASKES)} di {lokasi(r)}",
        "angkot": lambda r: r.choice(ANGKOT),
        "sungai": lambda r: r.choice(SUNGAI),
        "bansos": lambda r: r.choice(BANSOS),
        "sim": lambda r: r.choice(SIM),
        "barang": lambda r: r.choice(BARANG),
        "kasus": lambda r: r.choice(KASUS),
        "aplikasi": lambda r: r.choice(APLIKASI),
    }


class _Slots(dict[str, str]):
    """Draw a slot the first time a template names it, so repeated slots stay consistent."""

    def __init__(self, rng: random.Random, drawers: dict[str, Callable[[random.Random], str]]):
        super().__init__()
        self._rng = rng
        self._drawers = drawers

    def __missing__(self, key: str) -> str:
        value = self._drawers[key](self._rng)
        self[key] = value
        return value


def _informalize(text: str, rng: random.Random) -> str:
    """Rewrite a complaint the way it is often typed on a phone."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        if rng.random() < 0.3:
            return word
        return rng.choice(INFORMAL[word.lower()])

    text = _INFORMAL_RE.sub(swap, text)
    if rng.random() < 0.6:
        text = text.lower()
    if rng.random() < 0.5:
        text = _TRAILING_PUNCT_RE.sub("", text)
    if rng.random() < 0.3:
        text += rng.choice((" !!!", "!!", " ??", " pakkk", " min", " please"))
    return text


def _compose(
    topics: tuple[str, ...],
    rng: random.Random,
    drawers: dict[str, Callable[[random.Random], str]],
    where: bool = False,
) -> str:
    """One complaint on one of `topics`; with `where`, a sentence naming Kota Bandung
    (`_where`) stands before or after the topic."""
    slots = _Slots(rng, drawers)
    parts: list[str] = []
    if rng.random() < 0.5:
        parts.append(rng.choice(GREETINGS))
    intro = rng.random() < 0.35
    if intro:
        parts.append(rng.choice(INTROS))
    parts.append(rng.choice(topics))
    if where:
        before = not intro and rng.random() < 0.5
        parts.insert(len(parts) - before, _where(rng, before))
    if rng.random() < 0.4:
        parts.append(rng.choice(FOLLOW_UPS))
    if rng.random() < 0.25:
        parts.append(rng.choice(CONTACTS))
    if rng.random() < 0.6:
        parts.append(rng.choice(CLOSINGS))
    text = " ".join(part.format_map(slots) for part in parts)
    if rng.random() < 0.35:
        text = _informalize(text, rng)
    if rng.random() < 0.08:
        # Portal exports keep escaped line breaks; put one between two sentences.
        sentences = _SENTENCE_END_RE.split(text)
        if len(sentences) > 1:
            cut = rng.randrange(1, len(sentences))
            head, tail = " ".join(sentences[:cut]), " ".join(sentences[cut:])
            text = f"{head}{rng.choice(BREAKS)}{tail}"
    return text


def _where(rng: random.Random, before: bool) -> str:
    """A sentence naming Kota Bandung in one of the ways people write it."""
    if rng.random() < 0.15:
        place = rng.choice(BANDUNG_SHORTENINGS)
    else:
        writer = _place_writer()
        place = writer.write(writer.gazetteer.get(BANDUNG), rng, PLACE_FORMS)[1]
    return rng.choice(WHERE_BEFORE if before else WHERE_AFTER).format(tempat=place)


def _shared_topics(agency: str) -> tuple[str, ...]:
    return tuple(t for pair, topics in SHARED_TOPICS if agency in pair for t in topics)


@functools.cache
def _place_writer() -> PlaceWriter:
    return PlaceWriter(load_gazetteer())


def _government_drawers(code: str, writer: PlaceWriter, gazetteer: Gazetteer) -> Drawers:
    """Slot drawers whose places all lie in regency/city `code`."""
    region = gazetteer.get(code)
    if region is None:
        raise ValueError(f"{code} is not a regency/city of the gazetteer")

    def place(rng: random.Random) -> str:
        return writer.write(region, rng, PLACE_FORMS)[1]

    drawers = _slot_drawers(local=False)
    drawers.update(tempat=place, lokasi=place, kelurahan_any=place, kecamatan_any=place, kota=place)
    return drawers


def _government_complaints(
    n_per_regency: int, n_per_province: int, rng: random.Random
) -> list[tuple[tuple[str, ...], str, Drawers]]:
    """(topics, label, drawers) of each government complaint to draw, in order."""
    writer = _place_writer()
    gazetteer = writer.gazetteer
    names = {agency.region: agency.name for agency in government_agencies(gazetteer)}
    out = []
    for code in GOVERNMENT_REGIONS:
        drawers = _government_drawers(code, writer, gazetteer)
        out += [(KABKOTA_TOPICS, names[code], drawers)] * n_per_regency
    for province in PROVINCE_REGIONS:
        regencies = [code for code in GOVERNMENT_REGIONS if code.startswith(province + ".")]
        for _ in range(n_per_province):
            drawers = _government_drawers(rng.choice(regencies), writer, gazetteer)
            out.append((PROVINCE_TOPICS, names[province], drawers))
    return out


def generate(n_per_agency: int = 150, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Return ``n_per_agency`` unique synthetic complaints per agency of AGENCIES, and
    ``n_per_agency // 12`` per government of GOVERNMENT_REGIONS and ``n_per_agency // 18``
    per government of PROVINCE_REGIONS (at least one each), as columns id, text, agency.

    The same arguments always give the same rows in the same order.
    """
    if n_per_agency < 1:
        raise ValueError(f"n_per_agency must be at least 1, got {n_per_agency}")
    rng = random.Random(seed)
    seen: set[str] = set()

    def draw(
        topics: tuple[str, ...],
        drawers: Drawers,
        label: str,
        shared: tuple[str, ...] = (),
        where: bool = False,
    ) -> tuple[str, str]:
        for _attempt in range(100):
            chosen = shared if shared and rng.random() < AMBIGUOUS_SHARE else topics
            text = _compose(chosen, rng, drawers, where)
            if text not in seen:
                break
        else:
            raise RuntimeError(f"could not draw a new complaint for {label}; lower n")
        seen.add(text)
        return text, label

    rows: list[tuple[str, str]] = []
    for agency in AGENCIES:
        local = agency in LOCAL_AGENCIES
        drawers = _slot_drawers(local=local)
        shared = _shared_topics(agency)
        rows += [draw(TOPICS[agency], drawers, agency, shared, local) for _ in range(n_per_agency)]
    rng.shuffle(rows)
    # Governments' complaints are drawn afterwards and slotted in at random places, so the
    # agencies' complaints, and their order, are those of the corpus before governments joined.
    governments = _government_complaints(
        max(1, n_per_agency // 12), max(1, n_per_agency // 18), rng
    )
    for topics, label, drawers in governments:
        rows.insert(rng.randrange(len(rows) + 1), draw(topics, drawers, label))
    return pd.DataFrame(
        {
            "id": [f"S-{i:06d}" for i in range(1, len(rows) + 1)],
            "text": [text for text, _ in rows],
            "agency": [agency for _, agency in rows],
        },
        columns=list(COLUMNS),
    )


def write_csv(corpus: pd.DataFrame, path: Path) -> None:
    """Write the corpus as UTF-8 CSV with ``\\n`` line ends, identical on every platform."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(corpus.loc[:, list(COLUMNS)].itertuples(index=False, name=None))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.sample_corpus",
        description="Write the synthetic complaint corpus used by the quick start.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH, help="CSV file to write")
    parser.add_argument(
        "--n-per-agency", type=int, default=150, help="complaints per agency (default 150)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    if args.n_per_agency < 1:
        parser.error("--n-per-agency must be at least 1")
    corpus = generate(args.n_per_agency, args.seed)
    write_csv(corpus, args.out)
    print(f"wrote {len(corpus)} complaints for {corpus['agency'].nunique()} agencies to {args.out}")


if __name__ == "__main__":
    main()
